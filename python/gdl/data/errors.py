"""The exceptions of ``gdl.data``; all are ``ValueError``s, so one ``except`` catches them."""


class DataError(ValueError):
    """A data file is missing, malformed, or failed its checksum; the message names the file."""


class ChecksumError(DataError):
    """A file's SHA-256 is not the one in the registry; the message gives both hashes."""


class DownloadError(DataError):
    """A file could not be downloaded (offline, refused, interrupted, or no public address)."""
