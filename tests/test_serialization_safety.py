"""``nn.load`` on files that are not state dicts: each kind of bad file gets one
``nn.SerializationError`` naming the file and what is wrong, before any large allocation and
without unpickling anything; good files round-trip exactly."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn


def npy_bytes(array: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array(f, array, allow_pickle=False)
    return f.getvalue()


def npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """A version 1.0 .npy header declaring ``shape`` and ``dtype``, without the data."""
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        f, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return f.getvalue()


def write_zip(path, entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def load_error(path) -> str:
    with pytest.raises(nn.SerializationError) as info:
        nn.load(path)
    message = str(info.value)
    assert str(path) in message  # the file is named
    assert message.startswith("nn.load: ")
    return message


def test_serialization_error_is_a_value_error_exported_from_nn():
    assert issubclass(nn.SerializationError, ValueError)
    assert issubclass(nn.SerializationError, ag.ArraygradError)
    assert "SerializationError" in nn.__all__


def test_good_state_dict_round_trips_exactly(tmp_path):
    state = OrderedDict(
        [
            ("w", ag.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 7)),
            ("b", ag.tensor(np.array([1.5, -2.25], dtype=np.float64))),
            ("count", ag.tensor(np.array(7, dtype=np.int64))),
            ("mask", ag.tensor(np.array([True, False]))),
            ("u8", ag.tensor(np.array([0, 255], dtype=np.uint8))),
            ("half", ag.tensor(np.array([0.5, 65504], dtype=np.float16))),
            ("empty", ag.tensor(np.zeros((0, 4), dtype=np.float32))),
            ("fortran", ag.tensor(np.asfortranarray(np.arange(12.0).reshape(3, 4)))),
        ]
    )
    path = tmp_path / "good.npz"
    nn.save(state, path)
    loaded = nn.load(path)
    assert list(loaded) == list(state)
    for key, value in state.items():
        got = loaded[key]
        assert isinstance(got, ag.Tensor)
        assert got.dtype == value.dtype and got.shape == value.shape
        np.testing.assert_array_equal(got.numpy(), value.numpy())
    assert loaded["count"].item() == 7
    assert loaded["w"].numpy()[1, 2] == np.float32(5 / 7)
    loaded["w"].data[0, 0] = 3.0  # the loaded arrays are writable
    assert loaded["w"].numpy()[0, 0] == 3.0


def test_an_empty_state_dict_round_trips(tmp_path):
    nn.save({}, tmp_path / "empty.npz")
    assert nn.load(tmp_path / "empty.npz") == OrderedDict()


def test_numeric_npz_from_numpy_loads(tmp_path):
    path = tmp_path / "numpy.npz"
    np.savez_compressed(path, a=np.arange(5, dtype=np.int32), b=np.eye(2))
    loaded = nn.load(path)
    assert loaded["a"].tolist() == [0, 1, 2, 3, 4] and loaded["a"].dtype == np.int32
    np.testing.assert_array_equal(loaded["b"].numpy(), np.eye(2))


def test_big_endian_entries_load_in_native_order(tmp_path):
    path = tmp_path / "big.npz"
    write_zip(path, {"x.npy": npy_bytes(np.array([1.0, -2.5], dtype=">f8"))})
    x = nn.load(path)["x"]
    assert x.dtype == np.float64 and x.dtype.isnative
    assert x.tolist() == [1.0, -2.5]


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    assert "the file is empty (0 bytes)" in load_error(path)


def test_plain_npy_file(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.arange(3.0))
    message = load_error(path)
    assert "a single NumPy array (.npy), not an archive of named arrays (.npz)" in message


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert "not a zip archive of .npy arrays (it starts with b'hello')" in load_error(path)


def test_truncated_archive(tmp_path):
    path = tmp_path / "cut.npz"
    nn.save({"w": ag.ones(100)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "the zip archive is truncated or damaged" in load_error(path)


def test_member_that_is_not_npy(tmp_path):
    path = tmp_path / "other.npz"
    write_zip(path, {"w.npy": npy_bytes(np.ones(2)), "readme.txt": b"hello"})
    assert "the entry 'readme.txt' is not a .npy array" in load_error(path)


def test_member_named_npy_with_other_bytes(tmp_path):
    path = tmp_path / "fake.npz"
    write_zip(path, {"w.npy": b"just some bytes"})
    assert "the entry 'w.npy' is not a valid .npy array" in load_error(path)


def test_header_declaring_huge_array_fails_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    entry = npy_header((10**13,)) + b"\0" * 72  # 10^13 float64 = 72.8 TiB declared
    write_zip(path, {"w.npy": entry})
    assert path.stat().st_size < 400
    tracemalloc.start()
    try:
        message = load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # nothing near the declared size was allocated
    assert "declares shape (10000000000000,) of <f8 (80000000000000 bytes of data)" in message
    assert "but holds 72 bytes after its header" in message


def test_header_declaring_more_than_the_data_also_compressed(tmp_path):
    path = tmp_path / "short.npz"
    entry = npy_header((3, 4)) + np.zeros(5).tobytes()
    write_zip(path, {"w.npy": entry}, compression=zipfile.ZIP_DEFLATED)
    assert "declares shape (3, 4) of <f8 (96 bytes of data) but holds 40 bytes" in load_error(path)


def test_entry_whose_sizes_lie(tmp_path):
    # the central directory claims 10^12 bytes uncompressed for a 100-byte stored entry
    path = tmp_path / "lying.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(3))})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFFE)  # uncompressed size
    path.write_bytes(bytes(data))
    message = load_error(path)
    assert "claims 4294967294 bytes uncompressed" in message


def test_corrupted_data_is_caught_by_the_checksum(tmp_path):
    path = tmp_path / "flipped.npz"
    nn.save({"w": ag.zeros(64)}, path)
    data = bytearray(path.read_bytes())
    i = data.index(b"\0" * 64)
    data[i] = 1
    path.write_bytes(bytes(data))
    assert "the entry 'w.npy' cannot be read" in load_error(path)


def test_string_arrays_are_refused(tmp_path):
    path = tmp_path / "strings.npz"
    np.savez(path, names=np.array(["a", "b"]))
    assert "the entry 'names.npy' holds <U1 data; a state dict holds numeric arrays only" in (
        load_error(path)
    )


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled!",))

    path = tmp_path / "pickled.npz"
    np.savez(path, w=np.array([Boom()], dtype=object))
    assert "holds |O data" in load_error(path)


@pytest.mark.parametrize("dtype", ["<c16", "<f16", "|V8", "<M8[s]"])
def test_other_dtypes_are_refused(tmp_path, dtype):
    path = tmp_path / "odd.npz"
    entry = npy_header((1,), dtype) + b"\0" * np.dtype(dtype).itemsize
    write_zip(path, {"w.npy": entry})
    assert f"holds {np.dtype(dtype).str} data" in load_error(path)


def test_structured_arrays_are_refused(tmp_path):
    path = tmp_path / "rec.npz"
    np.savez(path, r=np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    assert "numeric arrays only" in load_error(path)


def test_duplicate_entries_are_refused(tmp_path):
    path = tmp_path / "dup.npz"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", npy_bytes(np.ones(1)))
        z.writestr("w.npy", npy_bytes(np.zeros(1)))
    assert "the entry 'w.npy' appears twice" in load_error(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match=r"nn\.load: no such file") as info:
        nn.load(path)
    assert info.value.filename == str(path)
    assert str(path) in str(info.value)


def test_load_of_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"nn\.load: this is a folder"):
        nn.load(tmp_path)


def test_save_into_a_missing_folder(tmp_path):
    path = tmp_path / "no" / "such" / "m.npz"
    with pytest.raises(FileNotFoundError, match=r"nn\.save: the folder .* does not exist") as info:
        nn.save({"w": ag.ones(1)}, path)
    assert str(tmp_path / "no" / "such") in str(info.value)
