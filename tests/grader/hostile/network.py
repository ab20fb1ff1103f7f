"""Tries to reach the network, to send what it can read or fetch what it should write."""

import socket


def relu(z):
    with socket.create_connection(("192.0.2.1", 80), timeout=2):
        pass
    return z


def relu_mask(z):
    with socket.create_connection(("127.0.0.1", 22), timeout=2):
        pass
    return z
