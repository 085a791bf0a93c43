"""harkml - training-side mirror of hark's on-device ML core.

features.py  the log-mel features of src/mel.c (numpy)
nnref.py     numpy streaming reference of the layers of src/nn_model.c
export.py    .hkm model file writer/reader (docs/model-format.md)
layers.py    torch modules that export 1:1 to those layers

Run with /usr/bin/python3 (Debian numpy/scipy/torch).
"""
