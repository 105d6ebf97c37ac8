"""Semantic image inpainting with a pre-trained DCGAN (Yeh et al., CVPR 2017): a reproducible study."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inpaint")
except PackageNotFoundError:  # run from the source tree without installing (PYTHONPATH=lib)
    __version__ = "unknown (not installed)"
