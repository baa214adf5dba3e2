"""Writing files so that nothing is lost: a crash or Ctrl-C never leaves a half-written file.
Used by the model cache (training) and the notebook tools; imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; when the block succeeds, rename it to ``path``.

    Write the whole file to the yielded path. On success it replaces ``path`` in one step
    (``os.replace``), keeping the permissions of the file it replaces (0o644 for a new file);
    on any exception, Ctrl-C included, the temporary file is deleted and ``path`` is left
    as it was. The temporary name keeps ``path``'s suffix (``model.save`` needs ``.keras``).
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-",
                                   suffix=f".part{path.suffix}")
    os.close(handle)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "r+b") as handle:  # on disk before the rename, so a crash cannot
            os.fsync(handle.fileno())      # leave the new name pointing at missing data
        try:
            shutil.copymode(path, tmp)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
