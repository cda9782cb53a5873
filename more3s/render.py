"""MuJoCo states -> frames: MORE-3S needs an image of each state, the D4RL-style datasets store
only the observation vector.

The simulator is set from the observation itself: gymnasium's v5 observations are qpos without
the x position, then qvel (clipped to +-10 for Hopper and Walker2d, which changes nothing visible
but the velocity, not drawn). x is set to 0: the tracking camera follows the torso, so the frame
is the same wherever the body is. The same renderer draws the dataset (once, in the features
stage) and the live states at evaluation, so train and test images come from one function.

How a state is drawn is a versioned protocol (`RenderProtocol`): it is part of the features
cache's key and card, and evaluation draws live states with the protocol of the cache the policy
was trained on (read back from that card).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from benchmark import envs
from benchmark.errors import BenchmarkError


@dataclass(frozen=True)
class RenderProtocol:
    """How a state becomes a frame; `name` changes whenever a field's meaning or the drawing changes."""

    name: str = "mujoco-render-v2"
    size: int = 84  # square frames
    camera: str = "track"  # a camera of the model (gymnasium's default: it follows the torso)
    # With EGL on a CPU, shadows and reflections cost ~64 of MuJoCo's default ~75 ms per 84x84 frame
    # and multisampling (its default: 4 samples) ~7 more: all three off, a frame takes ~3 ms.
    shadows: bool = False
    reflections: bool = False  # the floor mirroring the body
    skybox: bool = True
    multisamples: int = 0  # anti-aliasing samples of the offscreen buffer


# Caches made before the protocol was recorded were drawn by gymnasium's render() with MuJoCo's
# default scene; this renderer reproduces it byte for byte under these settings.
GYMNASIUM_DEFAULT = RenderProtocol(name="mujoco-render-v1", shadows=True, reflections=True, multisamples=4)


class StateRenderer:
    """Draws observations of `env` offscreen under `protocol` (EGL: `benchmark.runtime.configure` sets MUJOCO_GL)."""

    def __init__(self, env: str, protocol: RenderProtocol):
        import mujoco

        self.protocol = protocol
        # width and height size the model's offscreen buffer (gymnasium sets offwidth/offheight)
        self.env = envs.make_env("mujoco", env, envs.protocol_for("mujoco"), width=protocol.size, height=protocol.size)
        model = self.env.unwrapped.model  # type: ignore[attr-defined]
        self.nq, self.nv = int(model.nq), int(model.nv)
        self.camera = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, protocol.camera)
        if self.camera < 0:
            raise BenchmarkError(f"render protocol {protocol.name}: {env}'s model has no camera {protocol.camera!r}")
        model.vis.quality.offsamples = protocol.multisamples  # read when the renderer makes its buffers
        self.renderer = mujoco.Renderer(model, protocol.size, protocol.size)
        flags = self.renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = protocol.shadows
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = protocol.reflections
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = protocol.skybox

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """(B, obs_dim) -> (B, size, size, 3) uint8."""
        size = self.protocol.size
        frames = np.empty((len(observations), size, size, 3), dtype=np.uint8)
        simulator = self.env.unwrapped
        for frame, observation in zip(frames, observations, strict=True):
            qpos = np.concatenate([[0.0], observation[: self.nq - 1]])
            qvel = np.asarray(observation[self.nq - 1 : self.nq - 1 + self.nv], dtype=np.float64)
            simulator.set_state(qpos, qvel)  # type: ignore[attr-defined]
            self.renderer.update_scene(simulator.data, self.camera)  # type: ignore[attr-defined]
            self.renderer.render(out=frame)
        return frames

    def close(self) -> None:
        """Free the renderer's GL resources; a renderer still alive keeps drawing the same frames.

        mujoco.Renderer.close (3.x) frees its MjrContext in whatever GL context is current, which is
        the context of the last renderer that drew: with two alive, closing the older deleted the
        other's buffers (every frame it drew afterwards was wrong). Its own context is made current
        first. Called again, or by the garbage collector after a call, it does nothing.
        """
        gl_context = self.renderer._gl_context  # mujoco keeps it private; None once closed
        if gl_context is not None:
            gl_context.make_current()
            self.renderer.close()
            self.env.close()

    def __del__(self) -> None:
        # before mujoco.Renderer's own __del__, which would free in another context; at interpreter
        # exit EGL is already terminated (mujoco's atexit) and there is nothing left to free
        with contextlib.suppress(Exception):
            self.close()
