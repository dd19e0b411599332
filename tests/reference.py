"""NumPy reference implementations of the formulas, written independently of the package."""

import numpy as np


def attention_weights(scores, mask=None):
    """softmax over the last axis; masked entries 0; rows with no unmasked entry all 0."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    exp = np.exp(scores - row_max)
    total = exp.sum(-1, keepdims=True)
    return np.where(total > 0, exp / np.where(total > 0, total, 1.0), 0.0)


def dot_product_attention(q, k, v, mask=None, scale=None):
    """(batch, q_len, d) inputs; mask (batch, q_len, k_len) bool. Returns output, weights."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    weights = attention_weights(q @ np.swapaxes(k, -1, -2) * scale, mask)
    return weights @ v, weights


def multi_head_dot_product_attention(q, k, v, mask=None, scale=None):
    """(batch, len, heads, d) inputs; mask broadcastable to (batch, heads, q_len, k_len)."""
    q, k, v = (np.transpose(x, (0, 2, 1, 3)) for x in (q, k, v))
    output, weights = dot_product_attention(q, k, v, mask, scale)
    return np.transpose(output, (0, 2, 1, 3)), weights


def additive_attention(query, keys, values, w_q, w_k, v, mask=None):
    """Bahdanau: score = v . tanh(query W_q + key W_k); query (batch, q_len, dq)."""
    projected = np.tanh((query @ w_q)[:, :, None, :] + (keys @ w_k)[:, None, :, :])
    weights = attention_weights(projected @ v, None if mask is None else mask[:, None, :])
    return weights @ values, weights


def sinusoidal_encoding(length, dim, start=0, max_wavelength=10000.0):
    encoding = np.zeros((length, dim))
    for pos in range(start, start + length):
        for i in range(0, dim, 2):
            angle = pos / max_wavelength ** (i / dim)
            encoding[pos - start, i] = np.sin(angle)
            if i + 1 < dim:
                encoding[pos - start, i + 1] = np.cos(angle)
    return encoding


def causal(q_len, k_len):
    return np.tril(np.ones((q_len, k_len), bool))


def bigram_buckets(token_ids, num_buckets, multiplier=2039):
    """Hash bucket of each (previous, current) token pair; the first token pairs with 0."""
    ids = np.asarray(token_ids, np.int64)
    previous = np.pad(ids[:, :-1], ((0, 0), (1, 0)))
    return (previous * multiplier + ids) % num_buckets


def ngram_bag_rows(token_ids, vocab_size, num_buckets, order=2):
    """Per text, the list of its bag rows: each non-padding token, then vocab_size + the bucket
    of each non-padding position's pair (and with order 3 that of its triple: the previous
    position's pair bucket hashed with the token, plus num_buckets // 2)."""
    ids = np.asarray(token_ids, np.int64)
    pairs = bigram_buckets(ids, num_buckets)
    hashed = [pairs]
    if order == 3:
        previous_pairs = np.pad(pairs[:, :-1], ((0, 0), (1, 0)))
        hashed.append((previous_pairs * 2039 + ids + num_buckets // 2) % num_buckets)
    rows = np.concatenate([ids, *(vocab_size + buckets for buckets in hashed)], axis=1)
    present = np.concatenate([ids != 0] * order, axis=1)
    return [list(row[keep]) for row, keep in zip(rows, present)]


def ngram_bag(table, token_ids, vocab_size, num_buckets, order=2):
    """Per text: (sum of the table rows of its tokens and of vocab_size + their bigram (and
    with order 3 trigram) buckets) / sqrt(token count), over non-padding positions (a bag of
    counts, L2-style scaling)."""
    ids = np.asarray(token_ids, np.int64)
    summed = np.stack([table[np.asarray(rows, np.int64)].sum(axis=0)
                       for rows in ngram_bag_rows(ids, vocab_size, num_buckets, order)])
    return summed / np.sqrt(np.maximum((ids != 0).sum(axis=1, keepdims=True), 1))


def naive_bayes_scale(token_ids, labels, num_classes, vocab_size, num_buckets, smoothing=1.0,
                      order=2):
    """Per bag row: max over classes c of |log(p_c / sum p_c) - log(q_c / sum q_c)|, where p_c
    counts the texts of class c holding the row and q_c the other texts, both + smoothing
    (Wang and Manning's log-count ratio, one class against the rest)."""
    num_rows = vocab_size + num_buckets
    holding = np.zeros((num_classes, num_rows))
    for rows, label in zip(ngram_bag_rows(token_ids, vocab_size, num_buckets, order), labels):
        for row in set(rows):
            holding[label, row] += 1
    ratios = []
    for c in range(num_classes):
        p = holding[c] + smoothing
        q = holding.sum(axis=0) - holding[c] + smoothing
        ratios.append(np.log(p / p.sum()) - np.log(q / q.sum()))
    return np.abs(np.array(ratios)).max(axis=0)


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of integer `labels` under softmax(`logits`)."""
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), labels].mean()
