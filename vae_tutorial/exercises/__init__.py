"""Self-checking exercises: one line at the end of an exercise says whether the answer holds.

Each notebook's exercises live in a module named for it (``ex05`` for notebook 05), holding
one :class:`Exercise` per code exercise. The learner's exercise cell ends with::

    from vae_tutorial.exercises import ex05
    ex05.exercise_1.check(per_image)     # "Exercise 1: correct ..." or what is wrong, kindly
    ex05.exercise_1.hint()               # a nudge, never the solution

A check names the case that fails, what it expected and what it got, and a hint; it never
prints the solution. Checks import nothing heavy until they run. Introduced with the
classroom kit (issue 11); every notebook's exercises use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class Mismatch(Exception):
    """Raised by a check when the learner's answer is wrong; its message says how."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``passed`` and the message shown to the learner."""

    passed: bool
    message: str


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``test(*answer)`` raises :class:`Mismatch` saying what is wrong, or returns
    an optional sentence of praise or interpretation; ``hint_text`` never gives the answer."""

    title: str
    test: Callable[..., str | None]
    hint_text: str

    def evaluate(self, *answer, **named) -> Verdict:
        """The verdict on the answer, without printing it."""
        try:
            extra = self.test(*answer, **named)
        except Mismatch as exc:
            return Verdict(False, f"{self.title}: not yet. {exc} Hint: {self.hint_text}")
        except NotImplementedError:
            return Verdict(False, f"{self.title}: not answered yet (the cell still raises "
                                  "NotImplementedError); replace it with your code.")
        except Exception as exc:  # the learner's code raised while being checked
            return Verdict(False, f"{self.title}: your answer raised {type(exc).__name__}: "
                                  f"{exc}. Hint: {self.hint_text}")
        return Verdict(True, f"{self.title}: correct." + (f" {extra}" if extra else ""))

    def check(self, *answer, **named) -> None:
        """Print whether the answer holds (and if not, what is wrong and a hint)."""
        print(self.evaluate(*answer, **named).message)

    def hint(self) -> None:
        print(f"{self.title}, hint: {self.hint_text}")


def exercise(hint_text: str) -> Callable[[Callable[..., str | None]], Exercise]:
    """Decorator: the check ``exercise_N`` below becomes the :class:`Exercise` "Exercise N"."""
    return lambda test: Exercise(test.__name__.replace("_", " ").capitalize(), test, hint_text)


def expect_close(what: str, got, expected, *, atol: float = 0.0, rtol: float = 1e-6,
                 mistakes: dict | None = None) -> None:
    """Raise :class:`Mismatch` unless ``got`` is numerically close to ``expected``.

    ``what`` names the quantity in the message, e.g. ``"the KL of the first image (nats)"``.
    ``mistakes`` maps what a typical wrong answer would give to the sentence that explains it,
    ``{"you averaged over the K dimensions; sum them": expected / K}``, as a dict from the
    sentence to the wrong value; the first that ``got`` matches is added to the message.
    """
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(f"{what} should be a number or an array of numbers; got "
                       f"{type(got).__name__}.") from None
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        want = f"have shape {expected_array.shape}" if expected_array.ndim else "be one number"
        raise Mismatch(f"{what} should {want}; got shape {got_array.shape}.")
    if not np.all(np.isfinite(got_array)):
        raise Mismatch(f"{what} contains NaN or infinity.")
    if np.allclose(got_array, expected_array, atol=atol, rtol=rtol):
        return
    worst = int(np.argmax(np.abs(got_array - expected_array)))
    message = (f"{what}: expected {expected_array.flat[worst]:.6g}, got "
               f"{got_array.flat[worst]:.6g}" + (f" (at index {worst})" if got_array.size > 1
                                                 else ""))
    for explanation, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == got_array.shape and np.allclose(got_array, wrong, atol=atol, rtol=rtol):
            raise Mismatch(f"{message}: {explanation}.")
    raise Mismatch(message + ".")


def expect_cases(function: Callable, cases: dict, reference: Callable, *, atol: float = 0.0,
                 rtol: float = 1e-6, mistakes: Callable[..., dict] | None = None) -> None:
    """:func:`expect_close` of ``function(*args)`` to ``reference(*args)``, case by case.

    ``cases`` maps the name a message gives a case, e.g. ``"kl_weight('sum', 'mean', D=784,
    K=20)"``, to its arguments (the learner's function gets copies of arrays);
    ``mistakes(expected, *args)``, if given, returns that case's ``mistakes``. A function
    that returns None is told to return its value.
    """
    for what, args in cases.items():
        expected = reference(*args)
        got = function(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))
        if got is None:
            raise Mismatch(f"{what} returned None; end the function with `return` and the value.")
        expect_close(what, got, expected, atol=atol, rtol=rtol,
                     mistakes=mistakes(expected, *args) if mistakes else None)
