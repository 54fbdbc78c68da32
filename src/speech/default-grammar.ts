/**
 * Grammar used when the dialog gives no `hints.jsgf`: short IVR answers (yes/no, digit strings,
 * a few common requests). A grammar decoder can only return in-grammar phrases, so this must be
 * broad enough for "what the caller probably said" yet small enough to stay accurate.
 */
export const DEFAULT_JSGF = `#JSGF V1.0;
grammar ivr_default;

<yes> = yes | yeah | yep | correct | that's right | sure | okay;
<no> = no | nope | no thanks | not really;
<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
<digits> = <digit>+;
<request> = (book | make | schedule) an appointment
          | (cancel | change | reschedule) [my] appointment
          | (speak | talk) to (someone | a person | an agent | the receptionist)
          | repeat that | say that again
          | help | operator | goodbye | thank you;

public <utterance> = <yes> | <no> | <digits> | <request>;
`;

/** A one-rule grammar accepting exactly these phrases (lower-case words), for quick menus. */
export function jsgfForPhrases(phrases: readonly string[], name = 'phrases'): string {
  const cleaned = phrases
    .map((p) => p.toLowerCase().replace(/[^a-z' ]+/g, ' ').replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 0);
  if (cleaned.length === 0) throw new Error('jsgfForPhrases needs at least one phrase');
  return `#JSGF V1.0;\ngrammar ${name};\npublic <${name}> = ${cleaned.join(' | ')};\n`;
}
