"""The numbers the study compares itself against, as Yeh et al. (CVPR 2017) report them."""
from __future__ import annotations


# The paper's reported PSNR in dB, centre mask, CelebA test set: Yeh et al., "Semantic Image
# Inpainting with Deep Generative Models", CVPR 2017, Table 1 (its "CE/ours" pair, Context
# Encoders run by Yeh et al.). The paper does not say over which pixels or on which scale PSNR is
# computed; the comparison chapter places these beside our whole-image PSNR (psnr_full).
PAPER_CELEBA_CENTRE_PSNR = {"Yeh et al. (reported)": 19.4,
                            "Context Encoders (reported by Yeh et al.)": 21.3}
