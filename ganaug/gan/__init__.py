"""GAN losses, training loop and sampling."""
