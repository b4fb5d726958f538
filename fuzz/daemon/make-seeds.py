#!/usr/bin/env python3
"""Writes the seed inputs of fuzz-daemon (fuzz/daemon/seeds/): well-formed
exchanges in the target's input format (see step() in fuzz-daemon.c).
Usage: make-seeds.py SEED_DIR"""
import os
import struct
import sys

SESSIONS = 3
BLOCKING_READ, NONBLOCK_READ = 2, 2 | (1 << 2)   # 4096-byte read, blocking or not


def where(k, t=0):
    return k + SESSIONS * t


def open_session(k, flags=0):
    return bytes([0, where(k), flags])


def attach(k, t=0):
    return bytes([1, where(k, t), 0])


def ioctl(k, pick, arg=bytes(4)):
    """pick: the index in send_ioctl's table (1 BINDER_SET_CONTEXT_MGR, 4 BINDER_VERSION)."""
    return bytes([7, where(k), pick]) + arg


def transaction(k, cmd, handle, code, data=b"", objects=(), read=BLOCKING_READ, oneway=False):
    """cmd: 0 BC_TRANSACTION, 1 BC_REPLY; objects: (offset, encoded object)."""
    out = bytes([2, where(k), cmd]) + struct.pack("<HBBB", len(data), len(objects), 0, 0)
    out += struct.pack("<BIH", handle, code, 1 if oneway else 0) + data
    for offset, obj in objects:
        out += struct.pack("<H", offset // 8) + obj
    return out + bytes([0, read, 0])   # buffers_size, read mode, no lie


def read(k, mode=NONBLOCK_READ):
    return bytes([6, where(k), 0, mode, 0])   # no commands, a read


def answers(k, mode=NONBLOCK_READ):
    return bytes([5, where(k), 0, mode, 0])


def binder_object(ptr):
    return bytes([0]) + struct.pack("<HBB", 0x7f, ptr, 1)   # BINDER_TYPE_BINDER


def handle_object(handle):
    return bytes([2, handle])


def mmap(k):
    return bytes([9, where(k), 2 << 2]) + bytes([9, where(k), 1])   # 1 MiB, then MMAP_DONE


manager_and_client = (open_session(0) + attach(0) + mmap(0) + ioctl(0, 1)  # SET_CONTEXT_MGR
                      + open_session(1) + attach(1) + mmap(1))
SEEDS = {
    "call-and-reply": manager_and_client
    + transaction(1, 0, 0, 1, b"ping" * 4) + read(0)
    + transaction(0, 1, 0, 0, b"pong" * 2) + answers(0) + answers(1),
    "oneway": manager_and_client + transaction(1, 0, 0, 2, b"note", oneway=True,
                                                read=NONBLOCK_READ) + read(0) + answers(0),
    "pass-a-binder": manager_and_client
    + transaction(1, 0, 0, 3, bytes(24), [(0, binder_object(1))]) + read(0)
    + transaction(0, 1, 0, 0, bytes(8)) + answers(0) + answers(1)
    + transaction(0, 0, 1, 4, bytes(4), read=NONBLOCK_READ) + read(1) + answers(1),
    "pass-a-handle-back": manager_and_client
    + transaction(1, 0, 0, 3, bytes(24), [(0, binder_object(2))]) + read(0)
    + transaction(0, 1, 0, 0, bytes(24), [(0, handle_object(1))]) + answers(0) + answers(1),
    "small-region": open_session(0) + attach(0) + bytes([9, where(0), 1 << 2])
    + bytes([9, where(0), 1]) + ioctl(0, 1) + open_session(1) + attach(1)
    + transaction(1, 0, 0, 1, b"x" * 64) + read(0) + answers(0),
    "version-and-admin": open_session(0) + attach(0) + ioctl(0, 4) + bytes([12, 0, 1])
    + bytes([12, 0, 0]),
}

os.makedirs(sys.argv[1], exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(data)
