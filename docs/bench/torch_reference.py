#!/usr/bin/env python3
"""CPU time of the PyTorch CommFormer reference's PPO update and act call at our benchmark sizes.

Run (Debian: apt-get install python3-torch; the reference checked out outside this repo):

    python3 docs/bench/torch_reference.py --ref /path/to/CommFormer [--case dram] [--repeats 7]

It imports the reference's own modules from --ref (model, policy, trainer, buffer; nothing of
them is copied here), builds them with the hyperparameters of marl/commformer's
BenchmarkPPOUpdate / BenchmarkAct, and prints, per case, the process CPU seconds of one PPO
update (MATTrainer.train on a full buffer: advantage normalisation, minibatch generator, one
forward + backward + clip + Adam step, 1 epoch, 1 minibatch, Gumbel top-k graph) and of one
act call (TransformerPolicy.get_actions under no_grad: encoder and N autoregressive decoder
passes, sampled actions), on one thread, median of --repeats after --warmup runs.

Two import shims, written here: the `commformer` package is registered without running its
__init__ (which imports the environments: absl, gym, SMAC, football, none of them used by the
model or trainer), and transformers, which Debian lacks and the reference needs only for its
Conv1D layer (y = x W + b with W stored [in, out]), gets a minimal stand-in of that layer.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import types

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

# The sizes of marl/commformer/bench_test.go's benchCases: agents, observation values, actions,
# rollout envs x steps (= PPO samples), envs per act call.
CASES = {
    "predprey": dict(agents=3, obs=261, acts=5, envs=20, steps=200, act_envs=20),
    "dram": dict(agents=10, obs=16, acts=8, envs=32, steps=32, act_envs=32),
    "agents20": dict(agents=20, obs=32, acts=4, envs=32, steps=64, act_envs=32),
}


class _Conv1D(nn.Module):
    """Stand-in for transformers' Conv1D(nf, nx): a linear layer whose weight is [nx, nf]."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        out_shape = x.size()[:-1] + (self.nf,)
        y = torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight)
        return y.view(out_shape)


def _install_conv1d_stub():
    if "transformers.modeling_utils" in sys.modules:
        return
    try:
        import transformers.modeling_utils  # noqa: F401
        return
    except ImportError:
        pass
    pkg = types.ModuleType("transformers")
    mu = types.ModuleType("transformers.modeling_utils")
    mu.Conv1D = _Conv1D
    pkg.modeling_utils = mu
    sys.modules["transformers"] = pkg
    sys.modules["transformers.modeling_utils"] = mu


def _install_reference_package(ref):
    """Make `commformer` importable without running its __init__, which imports its
    environments (SMAC, football: absl, gym, ...), none of which the model or trainer uses."""
    pkg = types.ModuleType("commformer")
    pkg.__path__ = [os.path.join(ref, "commformer")]
    sys.modules["commformer"] = pkg


class Discrete:
    """What the reference reads of a gym Discrete space: its class name and n."""

    def __init__(self, n):
        self.n = n


def build(case, seed):
    """The reference's policy, trainer and a filled rollout buffer for one case."""
    from commformer.config import get_config
    from commformer.algorithms.mat.algorithm.transformer_policy import TransformerPolicy
    from commformer.algorithms.mat.mat_trainer import MATTrainer
    from commformer.utils.shared_buffer import SharedReplayBuffer

    c = CASES[case]
    n = c["agents"]
    # The reference's predator-prey script (train_pp.sh: commformer_dec, which sets dec_actor
    # and per-agent actor heads) with our benchmark's values: 1 block, embed 64, 1 head,
    # sparsity 0.4, lr 5e-4, clip 0.2, 1 epoch, 1 minibatch; the rest are its defaults
    # (value norm, Huber 10, clipped value loss, grad-norm clip 10, entropy 0.01, value coef 1).
    args = get_config().parse_args([
        "--env_name", "PP", "--algorithm_name", "commformer_dec", "--seed", str(seed),
        "--n_block", "1", "--n_embd", "64", "--n_head", "1", "--sparsity", "0.4",
        "--lr", "5e-4", "--clip_param", "0.2", "--ppo_epoch", "1", "--num_mini_batch", "1",
        "--use_bilevel", "--n_rollout_threads", str(c["envs"]),
        "--episode_length", str(c["steps"]),
    ])
    args.dec_actor, args.share_actor = True, False  # what train_pp.py sets for commformer_dec
    torch.manual_seed(seed)
    np.random.seed(seed)
    obs_space, act_space = [c["obs"]], Discrete(c["acts"])
    policy = TransformerPolicy(args, obs_space, obs_space, act_space, n, device=torch.device("cpu"))
    trainer = MATTrainer(args, policy, n, device=torch.device("cpu"))
    buf = SharedReplayBuffer(args, n, obs_space, obs_space, act_space, "PP")
    rng = np.random.default_rng(seed)
    shape = buf.obs.shape
    buf.obs[:] = rng.standard_normal(shape).astype(np.float32)
    buf.share_obs[:] = buf.obs
    buf.actions[:] = rng.integers(0, c["acts"], buf.actions.shape).astype(np.float32)
    buf.action_log_probs[:] = np.float32(-np.log(c["acts"])) + 0.1 * rng.standard_normal(
        buf.action_log_probs.shape).astype(np.float32)
    buf.value_preds[:] = rng.standard_normal(buf.value_preds.shape).astype(np.float32)
    buf.returns[:] = rng.standard_normal(buf.returns.shape).astype(np.float32)
    buf.advantages[:] = rng.standard_normal(buf.advantages.shape).astype(np.float32)
    act_obs = rng.standard_normal((c["act_envs"] * n, c["obs"])).astype(np.float32)
    return args, policy, trainer, buf, act_obs


def cpu_seconds(fn, repeats, warmup):
    """Process CPU seconds (user + system, as the Go benchmarks' cpu-ns/op) of each of
    repeats calls after warmup calls, and the system part of their sum."""
    for _ in range(warmup):
        fn()
    out, sys_s = [], 0.0
    for _ in range(repeats):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        fn()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        out.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        sys_s += r1.ru_stime - r0.ru_stime
    return out, sys_s


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ref", required=True, help="checkout of charleshsc/CommFormer (the repo root)")
    p.add_argument("--case", default="all", choices=["all"] + list(CASES))
    p.add_argument("--what", default="both", choices=["both", "update", "act"])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--act-repeats", type=int, default=0, help="act repeats (default: 5 x --repeats)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="one JSON object per case instead of text")
    a = p.parse_args(argv)
    if a.repeats < 1 or a.warmup < 0:
        p.error("--repeats must be >= 1 and --warmup >= 0")
    if not os.path.isdir(os.path.join(a.ref, "commformer", "algorithms", "mat")):
        p.error(f"--ref {a.ref}: not a CommFormer checkout (no commformer/algorithms/mat)")
    _install_reference_package(os.path.abspath(a.ref))
    _install_conv1d_stub()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)

    cases = list(CASES) if a.case == "all" else [a.case]
    for case in cases:
        c = CASES[case]
        args, policy, trainer, buf, act_obs = build(case, a.seed)
        res = dict(case=case, torch=torch.__version__, threads=torch.get_num_threads(),
                   samples=c["envs"] * c["steps"], act_envs=c["act_envs"])
        if a.what in ("both", "update"):
            step = args.warmup + 1  # past warm-up: the Gumbel top-k graph, as our benchmark

            def update():
                trainer.prep_training()
                trainer.train(buf, step=step, total_step=10 * step)

            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t, sys_s = cpu_seconds(update, a.repeats, a.warmup)
            res["update_s"] = t
            res["update_sys_share"] = sys_s / sum(t)
            res["update_median_s"] = statistics.median(t)
            res["maxrss_growth_MB"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        if a.what in ("both", "act"):
            n = c["agents"]
            zeros_rnn = np.zeros((c["act_envs"] * n, args.recurrent_N, args.hidden_size), np.float32)
            masks = np.ones((c["act_envs"] * n, 1), np.float32)

            @torch.no_grad()
            def act():
                trainer.prep_rollout()
                policy.get_actions(act_obs, act_obs, zeros_rnn, zeros_rnn, masks)

            t, sys_s = cpu_seconds(act, a.act_repeats or 5 * a.repeats, a.warmup)
            res["act_s"] = t
            res["act_sys_share"] = sys_s / sum(t)
            res["act_median_s"] = statistics.median(t)
        res["maxrss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if a.json:
            print(json.dumps(res), flush=True)
            continue
        line = f"{case}: torch {res['torch']}, {res['threads']} thread"
        if "update_s" in res:
            u = res["update_s"]
            line += (f"; update median {1e3 * res['update_median_s']:.1f} CPU-ms"
                     f" [{1e3 * min(u):.1f}, {1e3 * max(u):.1f}] ({len(u)} runs,"
                     f" {100 * res['update_sys_share']:.0f}% system)")
        if "act_s" in res:
            u = res["act_s"]
            line += (f"; act median {1e3 * res['act_median_s']:.2f} CPU-ms"
                     f" [{1e3 * min(u):.2f}, {1e3 * max(u):.2f}] ({len(u)} runs,"
                     f" {100 * res['act_sys_share']:.0f}% system)")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
