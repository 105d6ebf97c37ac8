"""The numbers the study compares itself against, as Yeh et al. (CVPR 2017) report them."""
from __future__ import annotations

# Yeh et al., "Semantic Image Inpainting with Deep Generative Models", CVPR 2017, Table 1: PSNR in
# dB on the CelebA test set (64x64 faces), for Context Encoders (CE, run by Yeh et al.) and for
# their own method, one row per mask kind of `inpaint.method.masks.MASK_KINDS`. The paper does not
# say over which pixels PSNR is computed; the comparison chapter checks the two readings and the
# faces chapter reads them as hole PSNR.
YEH = "Yeh et al."
CE = "Context Encoders"
TABLE_1_CELEBA = {
    "center": {YEH: 19.4, CE: 21.3},
    "pattern": {YEH: 17.4, CE: 19.2},
    "random": {YEH: 22.8, CE: 20.6},
    "half": {YEH: 13.7, CE: 15.5},
}

# The centre row, as the comparison chapter names its two methods.
PAPER_CELEBA_CENTRE_PSNR = {f"{YEH} (reported)": TABLE_1_CELEBA["center"][YEH],
                            f"{CE} (reported by {YEH})": TABLE_1_CELEBA["center"][CE]}
