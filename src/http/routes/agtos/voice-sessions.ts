/**
 * The live voice sessions agtOS lists at `GET /api/sessions` (seed 002). agentos has no voice pipeline
 * yet, so the registry stays empty and the route answers an honest empty list; the voice issue's
 * `/audio` WebSocket registers its connections here (one registry per services instance).
 * @module
 */
import type { Services } from '../../../services.js';

/** One live voice connection, as agtOS shows it. */
export interface VoiceSession {
  id: string;
  connectionId: string;
  isActive: boolean;
  isSpeaking: boolean;
  /** Epoch milliseconds. */
  lastActivity: number;
}

/** The live voice sessions of one process. */
export class VoiceSessionRegistry {
  private readonly sessions = new Map<string, VoiceSession>();

  /** Adds or replaces a session. */
  upsert(session: VoiceSession): void {
    this.sessions.set(session.id, session);
  }

  remove(id: string): void {
    this.sessions.delete(id);
  }

  list(): VoiceSession[] {
    return [...this.sessions.values()];
  }

  /** Whether a voice engine is configured; none exists yet. */
  get engine(): string | null {
    return null;
  }
}

const registries = new WeakMap<Services, VoiceSessionRegistry>();

/** The registry of a services instance (created on first use). */
export function voiceSessionsOf(services: Services): VoiceSessionRegistry {
  let registry = registries.get(services);
  if (!registry) {
    registry = new VoiceSessionRegistry();
    registries.set(services, registry);
  }
  return registry;
}
