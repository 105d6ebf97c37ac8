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

# The sets of faces the faces chapter reads Table 1 on (its table's `set` column).
FACE_SETS = {"authors": "Yeh et al.'s test faces (their crop)",
             "ours-yeh-crop": "our held-out faces, the authors' crop",
             "ours-centre": "our held-out faces, the centre 108×108 crop"}
# About how many faces Yeh et al.'s GAN trained on: CelebA's 202,599 less their test faces.
PAPER_TRAINING_FACES = 200_000

# What "PSNR" in Table 1 may mean, as `readings` computes each (the paper does not say).
PSNR_READINGS = {"hole, mean of images": "hole PSNR, the mean of the per-image values",
            "hole, pooled": "hole PSNR of the mean squared error pooled over the images",
            "whole image": "whole-image PSNR, the mean of the per-image values"}


def readings(metrics) -> dict[str, float]:
    """The three readings of Table 1's PSNR (`PSNR_READINGS`) for one method and mask kind, from
    `inpaint.method.metrics.evaluate`'s per-image rows (`psnr_hole`, `psnr_full`, dB): the mean
    of the per-image hole PSNRs, the hole PSNR of the images' mean squared error (each image's
    MSE is 255² / 10^(PSNR / 10)), and the mean of the per-image whole-image PSNRs. The second is
    at most the first (Jensen), as a pooled error weighs the worst images most."""
    import numpy as np
    hole = np.asarray(metrics["psnr_hole"], dtype=float)
    pooled_mse = np.mean(255.0 ** 2 / 10 ** (hole / 10))
    keys = list(PSNR_READINGS)
    return {keys[0]: float(hole.mean()),
            keys[1]: float(10 * np.log10(255.0 ** 2 / pooled_mse)),
            keys[2]: float(np.mean(np.asarray(metrics["psnr_full"], dtype=float)))}
