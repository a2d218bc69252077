"""Settings for every pytest run here, the nbval runs of notebooks/ included: notebook kernels
inherit this environment, so they run at the smoke profile without frozen progress bars."""
import os

os.environ.setdefault("COURSE_PROFILE", "smoke")
os.environ.setdefault("COURSE_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
