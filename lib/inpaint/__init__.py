"""Semantic image inpainting with a pre-trained DCGAN (Yeh et al., CVPR 2017): a reproducible study."""
