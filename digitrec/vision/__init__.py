"""Image input for digit recognition.

decode: image bytes or files (PNG, JPEG, BMP, TIFF, WEBP, GIF, HEIF, AVIF) to RGB arrays,
with every bad input reported as an ImageError. preprocess: pure numpy functions that turn a
picture of one handwritten digit into an MNIST-style 28x28 array (bright ink on black, 20-px
box, centred by mass).
"""
