"""8. The LSTM part-of-speech tagger: Embedding, LSTM and Linear, then log_softmax
over a sentence; NLL loss against the tags."""

import torch
import torch.nn.functional as F

from nnparity.catalog import ModelSpec
from .data import token_batches

EMBEDDING_DIM, HIDDEN_DIM, VOCAB, TAGS = 6, 6, 9, 3


class LSTMTagger(torch.nn.Module):
    def __init__(self, embedding_dim=EMBEDDING_DIM, hidden_dim=HIDDEN_DIM, vocab_size=VOCAB, tagset_size=TAGS):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = torch.nn.Embedding(vocab_size, embedding_dim)
        self.lstm = torch.nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = torch.nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


def twin(nn):
    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim=EMBEDDING_DIM, hidden_dim=HIDDEN_DIM, vocab_size=VOCAB, tagset_size=TAGS):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)
            self.log_softmax = nn.LogSoftmax(dim=1)

        def forward(self, sentence):
            n = sentence.shape[0]
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.reshape(n, 1, -1))
            return self.log_softmax(self.hidden2tag(lstm_out.reshape(n, -1)))

    return LSTMTagger()


SPEC = ModelSpec("LSTMTagger", LSTMTagger, twin, lambda nn: nn.NLLLoss(), token_batches(VOCAB, TAGS),
                 needs=("Embedding", "LSTM", "Linear", "LogSoftmax", "NLLLoss"))
