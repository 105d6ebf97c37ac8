"""Training a DCGAN: its settings, the loop, checkpoints, and the shipped GPU-trained models."""
