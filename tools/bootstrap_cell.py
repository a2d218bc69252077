# Outside the course's environment (Colab, another kernel): make course_utils importable.
import importlib.util
import os
import sys

if importlib.util.find_spec("course_utils") is None:
    if os.path.isdir("../course_utils"):
        sys.path.insert(0, "..")
    elif "COURSE_PACKAGE" in os.environ:  # README: Run in Colab
        %pip install -q {os.environ["COURSE_PACKAGE"]}
    else:
        raise ModuleNotFoundError("course_utils is missing: run `make lab` in a checkout (README: Run in Colab).")
