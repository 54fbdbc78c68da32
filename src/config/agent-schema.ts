/**
 * Schema of the agent definition file (`config/agent.yaml`). One file drives both brains.
 * Every section has defaults so a small file is enough; unknown keys are rejected so a typo fails
 * at startup naming the field.
 */
import { z } from 'zod';
import { businessSchema, llmSchema, personaSchema, pricesSchema, recordingSchema, slotsSchema, toolsSchema } from './business-schema.js';
import { offlineDialogSchema } from './dialog-schema.js';
import { transferSchema } from './transfer-schema.js';

const ms = (def: number) => z.number().int().nonnegative().default(def);

export const turnSchema = z
  .object({
    /** VAD speech probability threshold. */
    threshold: z.number().min(0).max(1).default(0.5),
    hysteresis: z.number().min(0).max(0.5).default(0.15),
    /** Speech needed before a speech onset is declared, ms. */
    onsetMs: ms(64),
    /** Silence that ends the caller's turn, ms (~300–700). */
    endSilenceMs: z.number().int().min(100).max(3000).default(500),
    /**
     * Silence after which an offline recogniser starts decoding speculatively, so the transcript is
     * ready when the turn ends (if the caller goes on, the early result is dropped), ms.
     */
    pauseMs: z.number().int().min(50).max(3000).default(200),
    /** Audio kept before the onset for the recogniser, ms. */
    preRollMs: ms(300),
    /**
     * Completeness-aware endpointing: at the caller's pause, the words recognised so far decide the
     * wait. A whole answer for the dialog step ends the turn after `completeSilenceMs`, clearly
     * unfinished words ("I would like to…", half a phone number, a trailing "and") wait
     * `incompleteSilenceMs`, anything else waits `endSilenceMs`. Off: always `endSilenceMs`.
     */
    adaptiveEndpointing: z.boolean().default(true),
    completeSilenceMs: z.number().int().min(50).max(3000).default(250),
    incompleteSilenceMs: z.number().int().min(100).max(5000).default(1200),
    /**
     * Caller speech that stops the agent holds its reply instead of dropping it; if the speech was
     * no words (a cough, noise, echo) or only a backchannel, the reply resumes from where the caller
     * stopped hearing it. Off: every sustained sound is an interruption.
     */
    resumeFalseInterruptions: z.boolean().default(true),
    /** Longest wait for the words of such speech before deciding (resume, or interrupt if still talking), ms. */
    falseInterruptionWindowMs: z.number().int().min(200).max(10_000).default(2000),
    /** A resumed reply restarts its sentence if the caller had heard at most this much of it, ms. */
    resumeRestartSentenceMs: ms(1500),
    /** Otherwise it backs up this much before where the caller stopped hearing it, ms. */
    resumeBackupMs: ms(500),
    /**
     * Caller speech over a held reply that lasts longer than this is an interruption without
     * waiting for its words: listener sounds ("okay", "uh huh", "mm hmm") are shorter (a drawn-out
     * "mm hmm" in bench:turns' slowest voice lasts 1.1 s; 900 ms cut some of them off), ms.
     */
    maxBackchannelMs: z.number().int().min(300).max(5000).default(1500),
    /** Listener sounds that never take the turn from the agent (lower case); default: okay, uh huh, right, yeah, mm hmm, … */
    backchannels: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((t) => t.completeSilenceMs <= t.endSilenceMs && t.endSilenceMs <= t.incompleteSilenceMs, {
    message: 'turn: completeSilenceMs <= endSilenceMs <= incompleteSilenceMs',
  });

export const bargeInSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Sustained caller speech needed to interrupt the agent, ms (coughs and echo are shorter). */
    minSpeechMs: ms(200),
  })
  .strict();

export const timeoutsSchema = z
  .object({
    /** Silence from the caller after the agent finished speaking before a reprompt, ms. */
    inactivityMs: ms(8000),
    /** Reprompts on inactivity before a polite goodbye. */
    inactivityReprompts: z.number().int().min(0).max(5).default(2),
    /** Hard cap on a call, ms. */
    maxDurationMs: ms(15 * 60_000),
    /** Longest wait for the goodbye's final mark before hanging up anyway, ms. */
    hangupMarkTimeoutMs: ms(5000),
    /**
     * Time from the caller's last word after which the offline voice says a filler if the reply
     * has not started (a slow or failing provider), ms; 0: never.
     */
    fillerAfterMs: ms(1000),
  })
  .strict();

export const playoutSchema = z
  .object({
    /** Most audio kept queued at Twilio ahead of real time, ms. */
    maxLeadMs: z.number().int().min(100).max(5000).default(600),
    /** Audio per outbound media message (a multiple of 20 ms), ms. */
    chunkMs: z.number().int().min(20).max(400).multipleOf(20).default(100),
  })
  .strict();

export const promptsSchema = z
  .object({
    greeting: z.string().min(1).default('Hello, how can I help you today?'),
    inactivity: z.array(z.string().min(1)).min(1).default(['Are you still there?']),
    goodbye: z.string().min(1).default('Thank you for calling. Goodbye.'),
    maxDuration: z.string().min(1).default('We have reached the time limit for this call. Goodbye.'),
    busy: z
      .string()
      .min(1)
      .default('Sorry, all of our lines are busy right now. Please call again in a few minutes. Goodbye.'),
    apology: z
      .string()
      .min(1)
      .default("I'm sorry, I'm having trouble right now. Please call again in a few minutes."),
  })
  .strict();

export const agentConfigSchema = z
  .object({
    name: z.string().min(1).default('Voice agent'),
    prompts: promptsSchema.prefault({}),
    turn: turnSchema.prefault({}),
    bargeIn: bargeInSchema.prefault({}),
    timeouts: timeoutsSchema.prefault({}),
    playout: playoutSchema.prefault({}),
    persona: personaSchema.prefault({}),
    business: businessSchema.prefault({}),
    tools: toolsSchema.prefault({}),
    slots: slotsSchema.prefault({}),
    offline: offlineDialogSchema.prefault({}),
    prices: pricesSchema.prefault({}),
    llm: llmSchema.prefault({}),
    recording: recordingSchema.prefault({}),
    transfer: transferSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Duplicate ids or keys would make intent matching depend on list order in a way nobody sees.
    const seenIds = new Set<string>();
    const seenKeys = new Set<string>();
    config.offline.intents.forEach((intent, i) => {
      if (seenIds.has(intent.id)) ctx.addIssue({ code: 'custom', message: `duplicate intent id "${intent.id}"`, path: ['offline', 'intents', i, 'id'] });
      seenIds.add(intent.id);
      if (intent.dtmf === undefined) return;
      if (seenKeys.has(intent.dtmf)) ctx.addIssue({ code: 'custom', message: `keypad key "${intent.dtmf}" used twice`, path: ['offline', 'intents', i, 'dtmf'] });
      seenKeys.add(intent.dtmf);
    });
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;
/** The file as written (every section optional). */
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
