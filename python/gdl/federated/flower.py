"""Participants as separate processes: the federated spam run over the network with Flower.

The same run as ``gdl run ch15-federated --aggregation plain``, but every participant is its
own process holding only its own slice of the emails, and the weights travel over gRPC: a
Flower server with Flower's ``FedAvg`` strategy (the count-weighted mean of the local models,
the same update as ``gdl.federated.fedavg``) and one Flower ``NumPyClient`` per participant.
The server also keeps the held-out test set and prints the test accuracy after every round.

    python -m gdl.federated.flower server --port 8080 --participants 3 --rounds 10
    python -m gdl.federated.flower client --port 8080 --participants 3 --index 0   # Bob
    ...

``run_loopback(...)`` starts the server and the clients as subprocesses on 127.0.0.1 with a
free port and waits for them, bounded by ``timeout`` seconds.

Every process rebuilds the same split of the corpus from the same seed (the vocabulary is
public, as in the book); a client then keeps only its own slice. The local shuffling seed of a
round is the one ``gdl.federated.fedavg.run_round`` uses, so the Flower run reproduces the
in-process run to float rounding.

Needs ``pip install 'gdl[flower]'``. It uses Flower's ``start_server``/``start_client``, which
recent Flower releases mark deprecated in favour of the SuperLink/SuperNode deployment engine
and ``flwr run``; they still work (tested with flwr 1.41) and need no app packaging, so a test
can start the whole federation as plain subprocesses.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

from gdl.federated.fedavg import participant_names, round_seed, split_participants
from gdl.federated.spam import BATCH_SIZE, LR, SpamModel, accuracy, load_spam


def _flwr():
    try:
        import flwr
    except ImportError:
        raise ImportError("the Flower adapter needs flwr: pip install 'gdl[flower]'") from None
    return flwr


def _arrays(model):
    return [model.state_dict()[name] for name in _names(model)]


def _names(model):
    return list(model.state_dict())


def make_client(participant, epochs=1, lr=LR, batch_size=BATCH_SIZE, seed=0):
    """A Flower ``NumPyClient`` that trains ``participant`` (a fedavg.Participant)."""
    fl = _flwr()
    names = _names(SpamModel(participant.vocab_size))

    class SpamClient(fl.client.NumPyClient):
        def get_parameters(self, config):
            return _arrays(SpamModel(participant.vocab_size))

        def fit(self, parameters, config):
            state = dict(zip(names, (np.asarray(p, dtype=np.float32) for p in parameters)))
            update = participant.fit(
                state, epochs=int(config.get("epochs", epochs)), lr=float(config.get("lr", lr)),
                batch_size=int(config.get("batch_size", batch_size)),
                seed=round_seed(int(config.get("seed", seed)), int(config["round_index"])))
            local = [state[k] + update.delta[k] for k in names]
            return local, update.count, {}

        def evaluate(self, parameters, config):
            return 0.0, len(participant), {}

    return SpamClient()


def serve(port, participants=3, rounds=10, epochs=1, lr=LR, batch_size=BATCH_SIZE,
          seed=0, test_size=1000, min_count=2, limit=None, host="127.0.0.1", round_timeout=300,
          quiet=False):
    """Run the Flower server until ``rounds`` rounds are done; returns {"accuracy": [after
    round 1, 2, ...], "seconds": ...}. Waits for all ``participants`` clients every round."""
    fl = _flwr()
    from flwr.common import ndarrays_to_parameters
    data = load_spam(test_size=test_size, min_count=min_count, limit=limit)
    model = SpamModel(len(data.vocab))
    names = _names(model)
    history = []

    def evaluate(server_round, parameters, config):
        model.load_state_dict(dict(zip(names, (np.asarray(p, np.float32) for p in parameters))))
        result = accuracy(model, data.test_bags, data.test_labels)
        if server_round > 0:
            history.append(result)
            if not quiet:
                print(f"round {server_round} (flower): test accuracy {100 * result:.2f}%",
                      flush=True)
        return 0.0, {"accuracy": result}

    def fit_config(server_round):
        return {"round_index": server_round - 1, "epochs": epochs, "lr": lr,
                "batch_size": batch_size, "seed": seed}

    strategy = fl.server.strategy.FedAvg(
        fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=participants,
        min_evaluate_clients=0, min_available_clients=participants, evaluate_fn=evaluate,
        on_fit_config_fn=fit_config, accept_failures=False,
        initial_parameters=ndarrays_to_parameters(_arrays(model)))
    start = time.perf_counter()
    fl.server.start_server(server_address=f"{host}:{port}", strategy=strategy,
                           config=fl.server.ServerConfig(num_rounds=rounds,
                                                         round_timeout=round_timeout))
    if len(history) != rounds:
        raise RuntimeError(f"the Flower run finished {len(history)} of {rounds} rounds")
    return {"accuracy": history, "seconds": time.perf_counter() - start}


def connect(port, index, participants=3, seed=0, test_size=1000, min_count=2, limit=None,
            host="127.0.0.1", max_wait=60):
    """Run participant ``index`` (0 is Bob) as a Flower client until the server ends."""
    fl = _flwr()
    data = load_spam(test_size=test_size, min_count=min_count, limit=limit)
    people = split_participants(data, participant_names(participants))
    if not 0 <= index < participants:
        raise ValueError(f"index must be between 0 and {participants - 1}, got {index}")
    client = make_client(people[index], seed=seed)
    fl.client.start_client(server_address=f"{host}:{port}", client=client.to_client(),
                           insecure=True, max_wait_time=max_wait)


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _wait_for_port(port, process, deadline, host="127.0.0.1"):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.2)
    return False


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def run_loopback(participants=3, rounds=10, epochs=1, lr=LR, batch_size=BATCH_SIZE,
                 seed=0, test_size=1000, min_count=2, limit=None, timeout=300, quiet=False):
    """Start a Flower server and one client process per participant on 127.0.0.1, run
    ``rounds`` rounds, and return the server's {"accuracy": [...], "seconds": ...}.

    Every process is killed after ``timeout`` seconds; TimeoutError or RuntimeError then
    carries the tail of the server's log."""
    _flwr()
    port = free_port()
    common = ["--port", str(port), "--participants", str(participants), "--seed", str(seed),
              "--test-size", str(test_size), "--min-count", str(min_count)]
    if limit is not None:
        common += ["--limit", str(limit)]
    command = [sys.executable, "-m", "gdl.federated.flower"]
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="gdl-flower-") as folder:
        out = os.path.join(folder, "result.json")
        logs = [os.path.join(folder, f"{name}.log") for name in ["server"] + list(
            participant_names(participants))]
        processes = []
        try:
            with open(logs[0], "w") as log:
                processes.append(subprocess.Popen(
                    command + ["server", "--rounds", str(rounds), "--epochs", str(epochs),
                               "--lr", str(lr), "--batch-size", str(batch_size), "--out", out]
                    + common + (["--quiet"] if quiet else []),
                    stdout=None if not quiet else log, stderr=log))
            if not _wait_for_port(port, processes[0], deadline):
                raise RuntimeError("the Flower server did not start:\n" + _tail(logs[0]))
            for index in range(participants):
                with open(logs[index + 1], "w") as log:
                    processes.append(subprocess.Popen(
                        command + ["client", "--index", str(index)] + common,
                        stdout=log, stderr=subprocess.STDOUT))
            for process in processes:
                left = deadline - time.monotonic()
                process.wait(timeout=max(left, 0.1))
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the Flower run took longer than {timeout} s:\n"
                               + _tail(logs[0])) from None
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        if processes[0].returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"the Flower server failed (exit {processes[0].returncode}):\n"
                               + _tail(logs[0]))
        failed = [(name, p.returncode) for name, p in zip(participant_names(participants),
                                                          processes[1:]) if p.returncode]
        if failed:
            name = failed[0][0]
            raise RuntimeError(f"Flower client {name} failed (exit {failed[0][1]}):\n"
                               + _tail(logs[1 + participant_names(participants).index(name)]))
        with open(out) as f:
            return json.load(f)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gdl.federated.flower",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--index", type=int, help="client: which participant (0 is Bob)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1, help="local epochs per round")
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", help="server: write the result as JSON here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.role == "server":
        result = serve(args.port, args.participants, args.rounds, args.epochs, args.lr,
                       args.batch_size, args.seed, args.test_size, args.min_count, args.limit,
                       host=args.host, quiet=args.quiet)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(result, f)
    else:
        if args.index is None:
            parser.error("client needs --index")
        connect(args.port, args.index, args.participants, args.seed, args.test_size,
                args.min_count, args.limit, host=args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
