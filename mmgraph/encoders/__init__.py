"""Modality encoders (text, image, attributes, sequence), the ModalityWise wrapper, the cache.

Every encoder maps one modality of ``N`` nodes to ``(x, mask)``: features ``[N, D]`` and a
bool presence mask ``[N]``; rows of nodes that lack the modality are zeros with mask
:obj:`False`. Sizes are named as in PyG: ``D`` is the encoder's ``out_channels`` attribute,
an input size is ``in_channels``. Heavy libraries (``transformers``, ``PIL``,
``scikit-learn``) are imported only when an encoder that needs them is built.
"""

from __future__ import annotations

from mmgraph.encoders.attributes import AttributeEncoder, NumericStandardizer, signed_log1p
from mmgraph.encoders.cache import (
    FeatureCache,
    default_cache_dir,
    fingerprint_module,
    fingerprint_path,
    hash_bytes,
    hash_tensor,
    hash_text,
    make_model_key,
)
from mmgraph.encoders.cnn import SmallCNN
from mmgraph.encoders.image import ImageEncoder, build_image_encoder
from mmgraph.encoders.image_autoencoder import ConvAutoencoder, ImageAutoencoder
from mmgraph.encoders.modality import (
    ENCODED_MODALITIES,
    ModalityWise,
    PrecomputedEncoder,
    encode_graph,
)
from mmgraph.encoders.sequence import SEQUENCE_ENCODERS, SequenceEncoder, over_steps
from mmgraph.encoders.text import (
    BagOfWordsTextEncoder,
    HashingTextEncoder,
    TextEncoder,
    TfidfTextEncoder,
    build_text_encoder,
)

__all__ = [
    "ENCODED_MODALITIES",
    "SEQUENCE_ENCODERS",
    "AttributeEncoder",
    "BagOfWordsTextEncoder",
    "ConvAutoencoder",
    "FeatureCache",
    "HashingTextEncoder",
    "ImageAutoencoder",
    "ImageEncoder",
    "ModalityWise",
    "NumericStandardizer",
    "PrecomputedEncoder",
    "SequenceEncoder",
    "SmallCNN",
    "TextEncoder",
    "TfidfTextEncoder",
    "build_image_encoder",
    "build_text_encoder",
    "default_cache_dir",
    "encode_graph",
    "fingerprint_module",
    "fingerprint_path",
    "hash_bytes",
    "hash_tensor",
    "hash_text",
    "make_model_key",
    "over_steps",
    "signed_log1p",
]
