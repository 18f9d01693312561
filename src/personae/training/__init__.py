"""Training: LoRA adapters for a character, and their conversion for the embedded runtime.

The converter (:mod:`personae.training.gguf_lora`) needs only numpy and the ``gguf`` package;
training itself needs the ``train`` extra (``pip install 'personae[train]'``).
"""

from personae.training.gguf_lora import (
    GGUF_MODULES,
    AdapterConfig,
    BaseModelInfo,
    convert_adapter,
    read_adapter_config,
    read_base_model,
    rope_rows_to_gguf,
)

__all__ = [
    "GGUF_MODULES",
    "AdapterConfig",
    "BaseModelInfo",
    "convert_adapter",
    "read_adapter_config",
    "read_base_model",
    "rope_rows_to_gguf",
]
