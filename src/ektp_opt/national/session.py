"""The one place ektp-opt starts or joins Ray (``national plan`` and ``national verify``).

Without ``--address`` ektp-opt starts a Ray of its own on this machine (``address="local"``) and
never joins a cluster by accident: a ``ray_current_cluster`` file left in Ray's temporary folder by
a head that was killed made a plain ``ray.init()`` try to join a dead cluster and hang. With
``--address HOST:PORT`` the address is tried first with a plain TCP connection (two seconds), so
an unreachable or refusing cluster is bad input, said in one line (exit 3), not twenty seconds of
Ray's own warnings and a ConnectionError.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from ektp_opt.errors import InputError
from ektp_opt.safety import interrupt

CONNECT_SECONDS = 2.0


def check_address(address: str | None) -> None:
    """Before any work: a cluster address that nothing answers at is exit 3 (None, 'auto': nothing to check)."""
    if address is not None and address != "auto":
        _reachable(address)


def _reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError("--address", None, f"{address!r} is not HOST:PORT (or 'auto')")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError("--address", None, f"no Ray cluster answers at {address} ({reason})") from None


def start_ray(address: str | None, cpus: int | None) -> bool:
    """Start a local Ray, or join the cluster at ``address``; True when this call started Ray
    (and so must shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    # Ray's own start-up notices (its dashboard, token authentication) are not the user's business;
    # its errors still show.
    logging.getLogger("ray").setLevel(logging.ERROR)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is not None and address != "auto":
        _reachable(address)
    try:
        # Ray's start-up installs its own SIGTERM handler (a stack dump, then abort): signals are
        # held until ours are back, then a Ctrl-C or SIGTERM that came meanwhile is ours to handle.
        with interrupt.held():
            try:
                ray.init(address="local" if address is None else address, num_cpus=cpus if address is None else None,
                         **options)  # fmt: skip
            except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                raise InputError("--address", None, f"could not join the Ray cluster at {address}: {first}") from None
            interrupt.reclaim()
    except BaseException:
        if ray.is_initialized():
            ray.shutdown()  # an interrupt right after start-up: the Ray this call started ends with it
        raise
    return True
