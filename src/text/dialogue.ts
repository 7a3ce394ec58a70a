/**
 * Splitting a dialogue into what was asked and what was answered.
 *
 * FULCRA writes one turn each ("Human: …\nBob: …"); HH-RLHF writes several
 * ("\n\nHuman: …\n\nAssistant: …\n\nHuman: …"). A value judgement is about
 * the last answer, read in the light of everything else said, so the answer
 * is the text of the last Bob/Assistant turn and the prompt is all the other
 * turns (speaker tags removed, turns joined by newlines, in order).
 */

const TURN = /(^|\n)[ \t]*(Human|Bob|Assistant):[ \t]?/g;

export interface PromptAnswer {
  prompt: string;
  answer: string;
}

/** Splits a dialogue at its last assistant turn. Text without speaker tags is all answer. */
export function splitPromptAnswer(dialogue: string): PromptAnswer {
  const marks: { speaker: string; start: number; end: number }[] = [];
  for (const m of dialogue.matchAll(TURN)) {
    const start = m.index! + m[1].length;
    marks.push({ speaker: m[2], start, end: m.index! + m[0].length });
  }
  if (marks.length === 0) return { prompt: "", answer: dialogue.trim() };
  let last = -1;
  for (let i = marks.length - 1; i >= 0; i--) {
    if (marks[i].speaker !== "Human") {
      last = i;
      break;
    }
  }
  const text = (i: number) => dialogue.slice(marks[i].end, i + 1 < marks.length ? marks[i + 1].start : dialogue.length).trim();
  // Only Human turns: nothing has been answered yet.
  if (last < 0) return { prompt: marks.map((_, i) => text(i)).join("\n"), answer: "" };
  const context = marks
    .map((_, i) => i)
    .filter((i) => i !== last)
    .map(text);
  const before = dialogue.slice(0, marks[0].start).trim();
  if (before) context.unshift(before);
  return { prompt: context.filter((t) => t !== "").join("\n"), answer: text(last) };
}

/** A FULCRA-style dialogue from a prompt and an answer. */
export function joinPromptAnswer(prompt: string, answer: string): string {
  return `Human: ${prompt}\nBob: ${answer}`;
}
