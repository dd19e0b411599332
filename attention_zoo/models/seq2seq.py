"""RNN encoder-decoder with Bahdanau attention (Bahdanau et al., 2015) for translation.

Encoder: embedding, bidirectional GRU. Decoder: embedding, then `BahdanauAttentionDecoder`
running a `BahdanauAttentionGRUCell` (the previous decoder state attends over every encoder
output; the context joins the input embedding), dropout, logits from the decoder state, or
with `deep_output=True` from the deep output of Bahdanau et al. (2015): the new state, the
context and the input embedding through a tanh layer. Trained with teacher forcing
on ((encoder_tokens, decoder_inputs), targets); id 0 is padding on both sides.

>>> import numpy as np
>>> model = Seq2SeqTranslator(source_vocab_size=20, target_vocab_size=30, embed_dim=8, units=16)
>>> source, target = np.array([[5, 6, 7, 0]]), np.array([[2, 9, 4]])
>>> tuple(model.predict([source, target], verbose=0).shape)
(1, 3, 30)
>>> cache = model.build_cache(source, max_length=3)
>>> logits, _, cache = model.call_decoder_with_cache(np.array([[2, 0, 0]]), cache, 1)
>>> tuple(logits.shape), model.cross_attention_weights(source, target).shape
((1, 30), (1, 1, 3, 4))
"""

import keras
from keras import ops

from attention_zoo import layers
from attention_zoo.data.tokenizers import END_ID, PAD_ID, START_ID
from attention_zoo.layers.direct_call import direct_call
from attention_zoo.models.scheduled_sampling import fed_tokens
from attention_zoo.models.translator import Translator


@keras.saving.register_keras_serializable(package="attention_zoo")
class Seq2SeqTranslator(Translator):
    """(encoder_tokens, decoder_inputs) -> (batch, target_length, target_vocab_size) logits.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes of the two sides.
        embed_dim: embedding size of both sides.
        units: the decoder state size and the encoder's per direction.
        dropout: after the embeddings and before the logits.
        deep_output: when True, the logits read a tanh layer of `units` over the decoder
            state, the attention context and the input embedding; by default the decoder
            state alone (the context has entered it through the GRU step).
        start_token_id, end_token_id, pad_token_id: the special target ids (padding must be 0).
        max_length: the most tokens `generate()` writes unless told otherwise.
    """

    varying_cache_keys = ("hidden",)  # what a decoding step writes; the rest stays as built

    def __init__(self, source_vocab_size, target_vocab_size, embed_dim=128, units=256,
                 dropout=0.1, deep_output=False, start_token_id=START_ID, end_token_id=END_ID,
                 pad_token_id=PAD_ID, max_length=32, **kwargs):
        # === Layers ===
        self.source_embedding = keras.layers.Embedding(source_vocab_size, embed_dim,
                                                       name="source_embedding")
        self.source_dropout = keras.layers.Dropout(dropout, name="source_dropout")
        self.encoder = keras.layers.Bidirectional(
            layers.FusedGRU(units, return_sequences=True, return_state=True), name="encoder")
        self.bridge = keras.layers.Dense(units, activation="tanh", name="bridge")
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embed_dim,
                                                       name="target_embedding")
        self.target_dropout = keras.layers.Dropout(dropout, name="target_dropout")
        self.decoder = layers.BahdanauAttentionDecoder(units, return_context=deep_output,
                                                       name="decoder")
        self.deep_output_dense = (keras.layers.Dense(units, activation="tanh", name="deep_output")
                                  if deep_output else None)
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        self.output_dense = keras.layers.Dense(target_vocab_size, name="logits", dtype="float32")
        # === Functional model ===
        encoder_tokens = keras.Input((None,), dtype="int32", name="encoder_tokens")
        decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_inputs")
        encoder_outputs, mask, hidden = self.call_encoder(encoder_tokens)
        embedded = self.target_dropout(self.target_embedding(decoder_inputs))
        y = self.decoder(embedded, encoder_outputs, encoder_outputs_mask=mask,
                         initial_hidden=hidden,
                         inputs_mask=ops.not_equal(decoder_inputs, pad_token_id))
        logits = self.output_dense(self.output_dropout(self._output_features(y, embedded)))
        super().__init__(inputs=[encoder_tokens, decoder_inputs], outputs=logits,
                         **{"name": "seq2seq_attention", **kwargs})
        # === Config ===
        self.source_vocab_size, self.target_vocab_size = source_vocab_size, target_vocab_size
        self.embed_dim, self.units, self.dropout = embed_dim, units, dropout
        self.deep_output = deep_output
        self._set_generation_config(start_token_id, end_token_id, pad_token_id, max_length)

    def get_config(self):
        return {"name": self.name, "source_vocab_size": self.source_vocab_size,
                "target_vocab_size": self.target_vocab_size, "embed_dim": self.embed_dim,
                "units": self.units, "dropout": self.dropout, "deep_output": self.deep_output,
                **self.generation_config()}

    def _output_features(self, decoder_outputs, embedded):
        """What the logits layer reads (before dropout): the deep output of the decoder
        outputs (state and context) and the input embedding, or the state alone."""
        if self.deep_output_dense is None:
            return decoder_outputs
        return direct_call(self.deep_output_dense,
                           ops.concatenate([decoder_outputs, embedded], axis=-1))

    def call_encoder(self, encoder_tokens, training=None):
        """(encoder outputs (batch, source_length, 2 units), their padding mask, the decoder's
        initial hidden state (batch, units) from both final encoder states)."""
        mask = ops.not_equal(encoder_tokens, 0)
        x = self.source_dropout(self.source_embedding(encoder_tokens), training=training)
        outputs, forward, backward = self.encoder(x, mask=mask, training=training)
        return outputs, mask, self.bridge(ops.concatenate([forward, backward], axis=-1))

    def build_cache(self, encoder_tokens, max_length=None):
        """The decoder cell's states: `hidden` (what a step changes) and `source` (the encoder
        outputs, their projected keys and mask); one step per call needs no room for
        `max_length`."""
        encoder_outputs, mask, hidden = self.call_encoder(
            ops.convert_to_tensor(encoder_tokens, "int32"), training=False)
        hidden, *source = self.decoder.cell.initial_states(encoder_outputs, mask, hidden)
        return {"hidden": hidden, "source": source}

    def call_decoder_with_cache(self, tokens, cache, index):
        token = ops.take(ops.convert_to_tensor(tokens, "int32"), index - 1, axis=1)
        embedded = direct_call(self.target_embedding, token)
        output, (state, *_), _ = self.decoder.cell.step(embedded,
                                                        [cache["hidden"], *cache["source"]])
        hidden = self._output_features(output, embedded)
        return direct_call(self.output_dense, hidden), hidden, {**cache, "hidden": state}

    def scheduled_sampling_call(self, encoder_tokens, decoder_inputs, use_gold, noise=None,
                                training=None):
        """Logits with scheduled sampling, step by step: step t reads the gold token where
        `use_gold[:, t]` and elsewhere the token the logits of step t - 1 predict (`fed_tokens`
        with `noise`). Dropout as in teacher forcing; padded steps keep the state."""
        encoder_outputs, mask, hidden = self.call_encoder(encoder_tokens, training=training)
        hidden, *source = self.decoder.cell.initial_states(encoder_outputs, mask, hidden)
        batch, length = ops.shape(decoder_inputs)[0], ops.shape(decoder_inputs)[1]
        steps = {"gold": decoder_inputs, "use_gold": use_gold,
                 "real": ops.not_equal(decoder_inputs, 0),
                 "embedding_kept": self.target_dropout(ops.ones(
                     (batch, length, self.embed_dim), self.compute_dtype), training=training),
                 "output_kept": self.output_dropout(ops.ones(
                     (batch, length, self.units), self.compute_dtype), training=training)}
        if noise is not None:
            steps["noise"] = noise

        time_major = {key: ops.moveaxis(value, 1, 0) for key, value in steps.items()}

        def step(carry, t):
            state, previous_logits = carry
            inputs = {key: ops.take(value, t, axis=0) for key, value in time_major.items()}
            token = fed_tokens(inputs["gold"], previous_logits, inputs["use_gold"],
                               inputs.get("noise"))
            embedded = self.target_embedding(token) * inputs["embedding_kept"]
            output, (new_state, *_), _ = self.decoder.cell.step(embedded, [state, *source],
                                                                training=training)
            state = ops.where(inputs["real"][:, None], new_state, state)
            features = self._output_features(output, embedded)
            logits = self.output_dense(features * inputs["output_kept"])
            return (state, logits), (state, logits)  # TensorFlow's scan wants ys like carry

        start = (hidden, ops.zeros((batch, self.target_vocab_size), "float32"))
        # one scanned tensor, the step index: Keras's TensorFlow scan fails on several when
        # the length is unknown (length-sorted batches)
        _, (_, logits) = ops.scan(step, start, ops.arange(length))
        return ops.moveaxis(logits, 0, 1)

    def _cross_attention(self, encoder_tokens, decoder_inputs):
        """(batch, 1, target_length, source_length): the one head's weights, step by step."""
        cache = self.build_cache(encoder_tokens)
        states = [cache["hidden"], *cache["source"]]
        embedded = self.target_embedding(decoder_inputs)
        weights = []
        for t in range(embedded.shape[1]):
            _, states, step_weights = self.decoder.cell.step(embedded[:, t], states)
            weights.append(step_weights)
        return ops.stack(weights, axis=1)[:, None]
