"""Layer inputs that used to give a silently wrong answer: out-of-range ids, a cache index past
the cache, padded keys in a cache, a decoder's target mask, float token inputs, zero sizes."""

import keras
import numpy as np
import pytest

from attention_zoo import layers
from helpers import BACKEND, numpy


@pytest.mark.parametrize("bad_id", [10, -1, 1000])
def test_token_ids_outside_the_vocabulary_raise(bad_id):
    layer = layers.TokenAndPositionEmbedding(10, 4, name="source_embedding")
    with pytest.raises(ValueError, match=rf"source_embedding: token ids must be in \[0, 10\) "
                                         rf"\(vocab_size=10\); received id {bad_id}"):
        layer(np.array([[3, bad_id, 0]]))
    assert np.isfinite(numpy(layer(np.array([[3, 9, 0]])))).all()


def test_token_ids_are_checked_in_eager_calls_not_under_jit():
    """Under jit the values are not known; the compiled model runs (documented behaviour)."""
    tokens = keras.Input((None,), dtype="int32")
    model = keras.Model(tokens, layers.TokenAndPositionEmbedding(10, 4)(tokens))
    model.compile(jit_compile=BACKEND != "torch")
    assert model.predict(np.array([[1, 2, 3]]), verbose=0).shape == (1, 3, 4)


@pytest.mark.parametrize("index", [6, 7, -1])
def test_cache_update_index_outside_the_cache_raises(index):
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = np.ones((1, 1, 8), "float32")
    cache = mha.empty_cache(1, 6)
    for given in (index, keras.ops.convert_to_tensor(index, "int32")):
        with pytest.raises(ValueError, match=rf"cache_update_index must be in \[0, 5\] for 1 "
                                             rf"new position\(s\) in a cache of 6; received {index}"):
            mha(x, x, cache=cache, cache_update_index=given)


def test_a_prompt_written_to_the_cache_keeps_its_key_padding_mask(rng):
    """Padded prompt tokens are not attended with a cache, as without one."""
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = rng.normal(size=(2, 4, 8)).astype("float32")
    key_mask = np.array([[True, False, True, True], [True, True, True, False]])
    expected, expected_scores = mha(x, x, value_mask=key_mask, use_causal_mask=True,
                                    return_attention_scores=True)
    out, scores, _ = mha(x, x, value_mask=key_mask, use_causal_mask=True,
                         return_attention_scores=True, cache=mha.empty_cache(2, 6),
                         cache_update_index=0)
    assert np.all(numpy(scores)[0, :, :, 1] == 0), "a padded key of the prompt was attended"
    np.testing.assert_allclose(numpy(scores)[..., :4], numpy(expected_scores), atol=1e-6)
    np.testing.assert_allclose(numpy(out), numpy(expected), atol=1e-5)


def padded_targets():
    ids = np.array([[5, 6, 0, 0], [1, 2, 3, 4]])
    embedded = keras.layers.Embedding(10, 3, mask_zero=True)(ids)
    return ids, embedded, np.random.default_rng(0).normal(size=(2, 6, 5)).astype("float32")


def test_bahdanau_decoder_applies_the_targets_keras_mask():
    ids, embedded, encoder_outputs = padded_targets()
    decoder = layers.BahdanauAttentionDecoder(units=4)
    outputs = numpy(decoder(embedded, encoder_outputs))
    # Over padded steps a masked RNN keeps its state: the output repeats the last real step.
    np.testing.assert_allclose(outputs[0, 2], outputs[0, 1], atol=1e-6)
    np.testing.assert_allclose(outputs[0, 3], outputs[0, 1], atol=1e-6)
    explicit = numpy(decoder(numpy(embedded), encoder_outputs, inputs_mask=ids != 0))
    np.testing.assert_allclose(explicit, outputs, atol=1e-6)
    assert not np.allclose(outputs[1, 2], outputs[1, 1])  # unpadded rows keep moving


def test_bahdanau_decoder_old_mask_keyword_still_works_with_a_warning():
    ids, embedded, encoder_outputs = padded_targets()
    decoder = layers.BahdanauAttentionDecoder(units=4)
    expected = numpy(decoder(numpy(embedded), encoder_outputs, inputs_mask=ids != 0))
    with pytest.warns(DeprecationWarning, match="mask= is deprecated; use inputs_mask="):
        old = numpy(decoder(numpy(embedded), encoder_outputs, mask=ids != 0))
    np.testing.assert_allclose(old, expected, atol=1e-6)


def test_float_token_inputs_keep_their_padding_mask():
    tokens = keras.Input((None,))  # float32, the keras.Input default
    embedded = layers.TokenAndPositionEmbedding(12, 6)(tokens)
    pooled = keras.layers.GlobalAveragePooling1D()(embedded)
    model = keras.Model(tokens, [embedded, pooled])
    ids = np.array([[5.0, 3.0, 0.0, 0.0]])
    full, mean = model(ids)
    np.testing.assert_allclose(numpy(mean), numpy(full)[:, :2].mean(1), atol=1e-5)
    masked = keras.layers.Masking()(keras.Input((None, 6)))
    encoded = layers.SinusoidalPositionalEncoding()(masked)
    assert getattr(encoded, "_keras_mask", None) is not None


@pytest.mark.parametrize("make,message", [
    (lambda: layers.MultiHeadAttention(2, 4, value_dim=0), "value_dim=0"),
    (lambda: layers.MultiHeadAttention(2, 4, output_dim=0), "output_dim=0"),
    (lambda: layers.BahdanauAttentionGRUCell(4, attention_units=0), "attention_units=0"),
    (lambda: layers.BahdanauAttentionDecoder(4, attention_units=0), "attention_units=0"),
    (lambda: layers.AttentionPooling(0), "units=0"),
    (lambda: layers.TransformerEncoderBlock(2, 8, key_dim=0), "key_dim=0"),
    (lambda: layers.FeedForward(8, output_dim=0), "output_dim=0"),
])
def test_zero_sizes_are_refused(make, message):
    with pytest.raises(ValueError, match=rf"must be a positive int; received {message}"):
        make()


@pytest.mark.parametrize("kind", ["transformer", "seq2seq"])
def test_translating_ids_outside_the_source_vocabulary_raises(kind):
    """A text entry point: the ids come from a tokenizer that may not be the model's."""
    from attention_zoo.models import Seq2SeqTranslator, TransformerTranslator

    model = (Seq2SeqTranslator(20, 30, embed_dim=8, units=8) if kind == "seq2seq" else
             TransformerTranslator(20, 30, embed_dim=8, num_heads=2, intermediate_dim=8,
                                   num_blocks=1))
    with pytest.raises(ValueError, match=r"inputs must be in \[0, 20\) "
                                         r"\(vocab_size=20\); received id 25"):
        model.generate(np.array([[5, 25, 0]]), max_length=4)


def test_classifying_with_a_vocabulary_that_is_not_the_models_raises():
    """A preprocessor whose vocabulary is bigger than its model's embedding."""
    from attention_zoo import data
    from attention_zoo.models import AttentionClassifier, ClassificationPreprocessor

    model = AttentionClassifier(6, 2, embed_dim=8, num_heads=2, intermediate_dim=8)
    tokenizer = data.tokenizer_from_vocabulary(["[PAD]", "[UNK]", "[START]", "[END]", "good",
                                                "bad", "film", "plot"], lowercase=True)
    model.preprocessor = ClassificationPreprocessor(tokenizer, 8, ["negative", "positive"])
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 6\) \(vocab_size=6\); "
                                         r"received id 7"):
        model.predict_texts(["plot good"])