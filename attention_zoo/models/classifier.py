"""A text classifier that pools its sequence with attention, so it can show what it read.

>>> import numpy as np
>>> model = AttentionClassifier(vocab_size=100, num_classes=2, embed_dim=16, num_heads=2,
...                             intermediate_dim=32)
>>> tuple(model.predict(np.array([[5, 6, 7, 0]]), verbose=0).shape)
(1, 2)
>>> probabilities, weights = model.attention_weights(np.array([[5, 6, 7, 0]]))
>>> float(weights[0, 3])  # padding gets no attention
0.0
"""

import keras
import numpy as np
from keras import ops

from attention_zoo import layers, metrics
from attention_zoo.layers.branch_sum import weighted_sum
from attention_zoo.layers.validation import check_positive_int, check_token_ids
from attention_zoo.models.generation import compiled_function
from attention_zoo.models.preset_model import PresetModel
from attention_zoo.models.text_encoder import TextEncoder


# Multiplies the n-gram bag's logits: under Adam, a 10x learning rate for the bag. Measured on
# 10,000 IMDB reviews, a bag alone reached 84.3 % test accuracy at learning rate 1e-3 (the
# recipe's; 5 epochs) and 88.8 % at 1e-2 (10 epochs; 88.0 % at 5e-2).
BAG_SCALE = 10.0


@keras.saving.register_keras_serializable(package="attention_zoo")
class AttentionClassifier(TextEncoder, PresetModel):
    """Token ids (batch, length; 0 = padding) -> (batch, num_classes) logits.

    The encoder (`TextEncoder`: "transformer" or "bigru-attention", plus `bigram_buckets` hashed
    word-pair rows so attention sees "not good" apart from "good"), then attention pooling
    (AdditiveAttention from a learned query over the sequence), dropout, dense logits. With
    `bag_buckets` > 0, the logits of an `NgramBag` (a linear model on the text's unigrams and
    `bag_buckets` hashed bigrams, with `bag_order=3` also trigrams, its output times
    `bag_scale`) are added: the wide half of a wide-and-deep model; with `bag_naive_bayes` the
    bag's rows are scaled by their naive Bayes log-count ratios (`NgramBag(naive_bayes=True)`:
    call `fit_naive_bayes(batches)` on the training data before training). `branch_dropout`
    drops each branch's logits (the head's, the bag's) for an example in training with that
    probability, independently, so each also learns to classify alone instead of leaving the
    examples the other has memorized;
    `branch_losses` trains each branch on the compiled loss of its own logits (the sum of the
    two losses), so the two are a product of experts each trained alone, their logits' sum the
    prediction. In inference the two are weighted (`BranchSum`): ones until
    `fit_branch_weights(validation_batches)`, which the recipe calls after training, so a
    confident but weaker branch counts less. `from_pretrained_encoder` starts from the encoder
    of a `MaskedLanguageModel`.
    `head_length` > 0: the encoder and the attention pooling read only the first `head_length`
    tokens of a text while the n-gram bag reads all of them: an encoder's cost grows with the
    length it reads (attention's with its square), a bag's hardly, so texts longer than the
    head's window still count whole (measured on IMDB, where 12 % of the reviews are longer than
    512 word pieces, in the README's sentiment section).
    `temperature` divides the logits in the probabilities `predict_texts` reports (temperature
    scaling, fitted on validation data by the recipe); the logits and labels do not change.
    """

    def __init__(self, vocab_size, num_classes, encoder="transformer", embed_dim=64,
                 num_heads=4, intermediate_dim=128, num_blocks=1, units=64, dropout=0.1,
                 attention_dropout=0.0, bigram_buckets=0, bag_buckets=0, bag_scale=BAG_SCALE,
                 branch_dropout=0.0, bag_naive_bayes=False, branch_losses=False,
                 head_length=None, bag_order=2, temperature=1.0, **kwargs):
        check_positive_int("head_length", head_length, optional=True)
        for name, value in (("branch_dropout", branch_dropout),
                            ("bag_naive_bayes", bag_naive_bayes),
                            ("branch_losses", branch_losses), ("head_length", head_length),
                            ("bag_order", bag_order != 2 and bag_order)):
            if value and not bag_buckets:
                raise ValueError(f"{name}={value} needs the n-gram bag, bag_buckets > 0; "
                                 f"received bag_buckets={bag_buckets}")
        if branch_losses and branch_dropout:
            raise ValueError(f"branch_losses trains each branch alone already; it cannot be "
                             f"combined with branch_dropout; received branch_losses=True, "
                             f"branch_dropout={branch_dropout}")
        # === Layers ===
        self._build_encoder(vocab_size, encoder, embed_dim, num_heads, intermediate_dim,
                            num_blocks, units, dropout, attention_dropout, bigram_buckets)
        self.pooling = layers.AttentionPooling(embed_dim, name="pooling")
        self.pooled_dropout = keras.layers.Dropout(dropout, name="pooled_dropout")
        self.output_dense = keras.layers.Dense(num_classes, name="logits", dtype="float32")
        self.ngram_bag = (layers.NgramBag(vocab_size, bag_buckets, num_classes, scale=bag_scale,
                                          naive_bayes=bag_naive_bayes, order=bag_order,
                                          dtype="float32", name="ngram_bag")
                          if bag_buckets else None)
        # drops a whole branch's logits for an example (each branch alone, independently)
        self.branch_dropout = (keras.layers.Dropout(branch_dropout, noise_shape=(None, 2, 1),
                                                    name="branch_dropout")
                               if bag_buckets else None)
        self.branch_sum = (layers.BranchSum(2, dtype="float32", name="branch_sum")
                           if bag_buckets else None)
        self.head_length = head_length  # read by the functional model's call below
        # === Functional model ===
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        logits, _ = self._logits(tokens)
        super().__init__(tokens, logits, **{"name": f"{encoder.replace('-', '_')}_classifier",
                                           **kwargs})
        self.num_classes, self.bag_buckets, self.bag_scale = num_classes, bag_buckets, bag_scale
        self.branch_dropout_rate, self.bag_naive_bayes = branch_dropout, bag_naive_bayes
        self.branch_losses, self.bag_order = branch_losses, bag_order
        self.temperature = temperature
        self._initialized = True
        self._compiled_explain = None  # (logits, pooling weights) of tokens, built on first use

    @classmethod
    def from_pretrained_encoder(cls, pretrained, num_classes, **head_options):
        """A classifier whose encoder is that of `pretrained` (a `MaskedLanguageModel`): its
        configuration and weights; the attention pooling, the logits and the n-gram bag start
        fresh, with `head_options` (dropout, attention_dropout, bag_buckets, ...)."""
        model = cls(num_classes=num_classes, **head_options, **pretrained.encoder_config())
        model.load_encoder_weights(pretrained)
        return model

    def fit_naive_bayes(self, batches):
        """Fits the n-gram bag's naive Bayes scale to labelled `batches` of (token ids,
        labels), such as the training pipeline (`bag_naive_bayes=True` only)."""
        if not self.bag_naive_bayes:
            raise ValueError(f"fit_naive_bayes needs a classifier built with "
                             f"bag_naive_bayes=True; received bag_naive_bayes="
                             f"{self.bag_naive_bayes}, bag_buckets={self.bag_buckets}")
        self.ngram_bag.fit_naive_bayes(batches, self.num_classes)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss; with `branch_losses`, in training, that of the head's logits
        (y_pred less the bag's) plus that of the bag's."""
        if not (training and self.branch_losses):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        bag = self.ngram_bag(x)  # in training BranchSum adds the two branches plainly
        # the compiled loss alone (Trainer.compute_loss would add the layers' losses twice)
        return (super().compute_loss(x, y, y_pred - bag, sample_weight, training)
                + self._compile_loss(y, bag, sample_weight))

    def fit_branch_weights(self, batches):
        """Fits the weights of the head's and the bag's logits in inference (`BranchSum`) to
        held-out labelled `batches` of (token ids, labels); returns them (head, bag)."""
        return self.fitted_logits(batches)[2]

    def fitted_logits(self, batches):
        """`fit_branch_weights` from one forward pass over `batches`: returns (the logits
        inference now computes for them, their labels, the weights)."""
        branches, labels = self.branch_logits(batches)
        weights = self.branch_sum.fit_branch_weights(branches, labels)
        return weighted_sum(branches, weights), labels, weights

    def branch_logits(self, batches):
        """Numpy ((examples, 2, classes) logits of the head and of the bag, (examples,)
        labels) of labelled `batches` of (token ids, labels), in inference."""
        if self.ngram_bag is None:
            raise ValueError("branch logits need the n-gram bag, bag_buckets > 0; received "
                             "bag_buckets=0")
        branches_of = compiled_function(lambda ids: self._branches(ids, training=False)[0], self)
        branches, labels = [], []
        for ids, batch_labels in batches:
            ids = ops.convert_to_tensor(np.asarray(ids), "int32")
            branches.append(ops.convert_to_numpy(branches_of(ids)))
            labels.append(np.asarray(batch_labels))
        return np.concatenate(branches), np.concatenate(labels)

    def _logits(self, tokens, training=None):
        """(logits (batch, classes), pooling weights (batch, length)): the dense head on the
        attention-pooled encoding, plus the n-gram bag's logits when there is one (their
        `BranchSum`)."""
        branches, weights = self._branches(tokens, training)
        if self.ngram_bag is None:
            return branches, weights
        dropped = self.branch_dropout(branches, training=training)
        return self.branch_sum(dropped, training=training), weights

    def _branches(self, tokens, training=None):
        """(the head's logits, or with the bag the (batch, 2, classes) logits of the head and
        the bag, pooling weights (batch, head's length))."""
        head_tokens = tokens if self.head_length is None else tokens[:, :self.head_length]
        pooled, weights = self.pooling(self._encode(head_tokens, training), training=training)
        logits = self.output_dense(self.pooled_dropout(pooled, training=training))
        if self.ngram_bag is None:
            return logits, weights
        return ops.stack([logits, self.ngram_bag(tokens)], axis=1), weights

    def attention_weights(self, tokens):
        """Numpy (class probabilities (batch, classes) at `self.temperature`, pooling weights
        (batch, length)), through a forward pass compiled for the backend (once per shape)."""
        if self._compiled_explain is None:
            self._compiled_explain = compiled_function(
                lambda ids: self._logits(ids, training=False), self)
        logits, weights = self._compiled_explain(ops.convert_to_tensor(tokens, "int32"))
        return (metrics.softmax(ops.convert_to_numpy(logits), self.temperature),
                ops.convert_to_numpy(weights))

    def predict_texts(self, texts, top_tokens=5, batch_size=64):
        """For each text: its label, the label's probability, every class's probability and the
        `top_tokens` word pieces the pooling weighted most, through `self.preprocessor`."""
        ids, _ = self.preprocessor_for("predict_texts").encode(list(texts))
        check_token_ids("token ids", ids, self.vocab_size)
        results = []
        for start in range(0, len(ids), batch_size):
            batch = ids[start:start + batch_size]
            probabilities, weights = self.attention_weights(batch)
            results += [self._explain(row, p, w, top_tokens)
                        for row, p, w in zip(batch, probabilities, weights)]
        return results

    def _explain(self, ids, probabilities, weights, top_tokens):
        names = self.preprocessor.class_names
        label = int(probabilities.argmax())
        length = int((ids != 0).sum())
        order = np.argsort(-weights[:length])[:top_tokens]
        tokenizer = self.preprocessor.tokenizer
        return {"label": names[label], "probability": round(float(probabilities[label]), 4),
                "probabilities": {name: round(float(p), 4) for name, p in zip(names,
                                                                               probabilities)},
                "attended": [(tokenizer.id_to_token(int(ids[i])), round(float(weights[i]), 4))
                             for i in order]}

    def get_config(self):
        return {"name": self.name, "num_classes": self.num_classes, "dropout": self.dropout,
                "attention_dropout": self.attention_dropout, "bag_buckets": self.bag_buckets,
                "bag_scale": self.bag_scale, "branch_dropout": self.branch_dropout_rate,
                "bag_naive_bayes": self.bag_naive_bayes, "branch_losses": self.branch_losses,
                "head_length": self.head_length, "bag_order": self.bag_order,
                "temperature": self.temperature,
                **self.encoder_config()}
