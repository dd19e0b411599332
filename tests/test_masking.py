import numpy as np
import pytest

from attention_zoo.layers import masking
from helpers import numpy
from reference import causal


def test_padding_mask_from_token_ids():
    ids = np.array([[3, 4, 0, 0], [1, 0, 2, 0]])
    assert numpy(masking.padding_mask(ids)).tolist() == (ids != 0).tolist()
    assert numpy(masking.padding_mask(ids, pad_id=4)).tolist() == (ids != 4).tolist()


@pytest.mark.parametrize("q_len,k_len,offset", [(4, 4, 0), (3, 5, 0), (1, 6, 3), (2, 6, 2)])
def test_causal_mask_against_tril(q_len, k_len, offset):
    expected = np.tril(np.ones((q_len, k_len), bool), k=offset)
    assert numpy(masking.causal_mask(q_len, k_len, offset)).tolist() == expected.tolist()


def test_combine_masks_ands_every_part():
    query_mask = np.array([[1, 1, 0]], bool)
    key_mask = np.array([[1, 0, 1]], bool)
    extra = np.array([[[1, 1, 1], [0, 1, 1], [1, 1, 1]]], bool)
    combined = masking.combine_masks(query_mask, key_mask, extra, causal=True,
                                     query_length=3, key_length=3)
    expected = query_mask[:, :, None] & key_mask[:, None, :] & extra & causal(3, 3)
    assert numpy(combined).tolist() == expected.tolist()
    assert masking.combine_masks() is None


def test_combine_masks_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"key_mask must have shape \(batch, 4\).*\(2, 3\)"):
        masking.combine_masks(key_mask=np.ones((2, 3), bool), query_length=2, key_length=4)
    with pytest.raises(ValueError, match=r"attention_mask must have shape"):
        masking.combine_masks(attention_mask=np.ones((2, 3, 5), bool), query_length=3,
                              key_length=4)


@pytest.mark.parametrize("dtype,expected", [("float16", -65504.0), ("float32", -3.4028234663852886e38),
                                            ("bfloat16", -3.3895313892515355e38)])
def test_mask_value_is_most_negative_finite(dtype, expected):
    assert masking.mask_value(dtype) == expected


def test_masked_softmax_zeroes_fully_masked_rows(rng):
    scores = rng.normal(size=(2, 3, 4)).astype("float32")
    mask = rng.random((2, 3, 4)) > 0.5
    mask[0, 1] = False
    weights = numpy(masking.masked_softmax(scores, mask))
    from reference import attention_weights

    np.testing.assert_allclose(weights, attention_weights(scores, mask), atol=1e-6)
    assert not np.isnan(weights).any() and np.all(weights[0, 1] == 0)
