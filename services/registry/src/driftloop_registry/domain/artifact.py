"""Rules about artifact bytes that need no ONNX runtime: recognising formats
that are never accepted (pickle, archives) by their content, not their name."""

from __future__ import annotations

from driftloop.platform.errors import FailedPrecondition

# Leading bytes of formats people upload by mistake (or on purpose).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "a zip archive"),
    (b"\x1f\x8b", "a gzip file"),
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),
    (b"\x93NUMPY", "a numpy array file"),
    (b"\x7fELF", "an executable"),
)


class ArtifactCorrupted(FailedPrecondition):
    """A stored artifact no longer matches its checksum."""


def foreign_format(head: bytes) -> str | None:
    """What the bytes are when they are recognisably not ONNX, else None.

    >>> foreign_format(b"\\x80\\x04\\x95...")
    'a pickle (protocol 4)'
    >>> foreign_format(b"PK\\x03\\x04rest") is not None
    True
    >>> foreign_format(b"\\x08\\x09\\x12\\x07pytorch") is None
    True
    """
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return f"a pickle (protocol {head[1]})"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    # Protocol 0/1 pickles have no header: they start with an opcode such as
    # MARK '(', GLOBAL 'c' (text up to a newline) or EMPTY_DICT/LIST then BINPUT.
    if head[:1] in (b"(", b"c") and b"\n" in head[:256]:
        return "a pickle (protocol 0/1) or text"
    if head[:1] in (b"}", b"]", b")") and head[1:2] in (b"q", b"r", b"(", b"."):
        return "a pickle (protocol 1)"
    return None
