"""The method: tensors in, tensors out. DCGAN models, masks, Yeh et al.'s search, blending, the
classical fills, image metrics and the realism critic. Knows no profile, no runs/ and no chapter."""
