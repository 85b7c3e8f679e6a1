"""Evidence files: the allow-list, the checks and the storage.

A file is checked completely before anything is written. Its extension must
be on the allow-list, its size within :data:`MAX_EVIDENCE_BYTES`, and its
first bytes must be those of the type the extension names. The client's
declared content type is ignored. Accepted files are stored under the
data folder, outside any static folder, with a random name and mode 0600,
and are served back only as attachment downloads (see the views).
"""

import hashlib
import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from programmes.errors import EvidenceRejected

EVIDENCE_FOLDER = "programme-evidence"
MAX_EVIDENCE_BYTES = 1536 * 1024
"""1.5 MiB: under the platform's 2 MiB request limit, leaving room for the
rest of the upload form."""
MAX_FILE_NAME = 200


@dataclass(frozen=True)
class FileType:
    extensions: tuple[str, ...]
    content_type: str
    label: str


ALLOWED_TYPES = (
    FileType((".pdf",), "application/pdf", "PDF"),
    FileType((".png",), "image/png", "PNG image"),
    FileType((".jpg", ".jpeg"), "image/jpeg", "JPEG image"),
    FileType(
        (".docx",),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document",
    ),
)
ALLOWED_EXTENSIONS = tuple(ext for kind in ALLOWED_TYPES for ext in kind.extensions)


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, ready to store."""

    file_name: str
    content_type: str
    content: bytes
    sha256: str


def _sniff(content: bytes) -> str | None:
    """Return the content type the file's first bytes show, if allowed."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"PK\x03\x04"):
        # A Word document is a ZIP archive with these two members. Only the
        # archive's directory is read; nothing is extracted.
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if {"[Content_Types].xml", "word/document.xml"} <= names:
            return ALLOWED_TYPES[3].content_type
    return None


def check_file(file_name: str, content: bytes) -> CheckedFile:
    """Check an uploaded file's name, size and content.

    :returns: the file with its sniffed content type and SHA-256.
    :raises EvidenceRejected: naming the file and what to change.
    """
    name = PurePath(file_name.replace("\\", "/")).name.strip()
    if not name or len(name) > MAX_FILE_NAME or any(ord(c) < 32 for c in name):
        raise EvidenceRejected(
            f"File name {file_name!r} is invalid; use a name of 1 to "
            f"{MAX_FILE_NAME} printable characters."
        )
    extension = os.path.splitext(name)[1].lower()
    expected = next((t for t in ALLOWED_TYPES if extension in t.extensions), None)
    if expected is None:
        raise EvidenceRejected(
            f"File {name!r} has type {extension or '(none)'!r}, which is not "
            f"accepted; upload one of {', '.join(ALLOWED_EXTENSIONS)}."
        )
    if not content:
        raise EvidenceRejected(f"File {name!r} is empty; choose the file again.")
    if len(content) > MAX_EVIDENCE_BYTES:
        raise EvidenceRejected(
            f"File {name!r} is {len(content)} bytes, over the limit of "
            f"{MAX_EVIDENCE_BYTES} bytes (1.5 MiB); reduce or split it."
        )
    sniffed = _sniff(content)
    if sniffed != expected.content_type:
        raise EvidenceRejected(
            f"File {name!r} is named as a {expected.label} but its content is "
            f"not one; upload the document itself, saved as one of "
            f"{', '.join(ALLOWED_EXTENSIONS)}."
        )
    return CheckedFile(
        file_name=name,
        content_type=expected.content_type,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def evidence_folder(data_dir: Path) -> Path:
    return data_dir / EVIDENCE_FOLDER


def store_file(data_dir: Path, checked: CheckedFile) -> str:
    """Write a checked file under a new random name and return that name.

    The file is written to a temporary name and renamed, so a reader never
    sees a partial file.
    """
    storage_name = secrets.token_hex(16)
    folder = evidence_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = folder / f".{storage_name}.part"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(checked.content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / storage_name)
    return storage_name


def remove_file(data_dir: Path, storage_name: str) -> None:
    """Remove a stored file whose database row was not committed."""
    (evidence_folder(data_dir) / storage_name).unlink(missing_ok=True)


def read_file(data_dir: Path, storage_name: str, sha256: str) -> bytes:
    """Read a stored file and check it against its recorded SHA-256.

    :raises EvidenceRejected: when the file is missing or was changed.
    """
    if not storage_name.isalnum():
        raise EvidenceRejected(f"Stored name {storage_name!r} is invalid.")
    path = evidence_folder(data_dir) / storage_name
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise EvidenceRejected(
            f"Evidence file {storage_name} is missing from the data folder; "
            "restore it from the backup."
        ) from None
    if hashlib.sha256(content).hexdigest() != sha256:
        raise EvidenceRejected(
            f"Evidence file {storage_name} does not match its recorded SHA-256; "
            "restore it from the backup."
        )
    return content
