/**
 * Which team a run means: the config's team of that id, else the workspace's team component at a
 * config version.
 * @module
 */
import type { TeamConfig } from '../../config/index.js';
import { AgentOsError, NotFoundError } from '../../errors/index.js';
import { loadComponentVersion, teamOfComponent } from '../component-definitions.js';
import type { ComponentRunDeps } from '../component-run.js';

/** A team as a run resolves it: from the config, or a team component at one config version. */
export interface ResolvedTeam {
  team: TeamConfig;
  source: 'config' | 'component';
  /** The component config version (components only). */
  version?: number;
}

/**
 * The team of the config, else the workspace's team component at `version` (else its current one);
 * `AOS_NOT_FOUND` when neither. A stored config that no longer validates is a 400 naming the problem.
 */
export async function resolveTeam(
  deps: ComponentRunDeps,
  workspaceId: string,
  teamId: string,
  version?: number,
): Promise<ResolvedTeam> {
  const configured = deps.config.teams.find((candidate) => candidate.id === teamId);
  if (configured) {
    if (version !== undefined) {
      throw new AgentOsError('AOS_BAD_REQUEST', `Team ${teamId} is defined in the config and has no versions`);
    }
    return { team: configured, source: 'config' };
  }
  const stored = await loadComponentVersion(deps.store, workspaceId, 'team', teamId, version);
  if (!stored) throw new NotFoundError('Team not found');
  return {
    team: teamOfComponent(stored.component, stored.config.config),
    source: 'component',
    version: stored.config.version,
  };
}
