// Generated from schemas/hub.schema.json by `npm run gen:types`. Do not edit by hand.

/**
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "labelName".
 */
export type LabelName = string;
/**
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "objectName".
 */
export type ObjectName = string;
/**
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "envName".
 */
export type EnvName = string;
/**
 * Seconds, or an integer with s, m, h or d: 90s, 2d.
 *
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "duration".
 */
export type Duration = number | string;

/**
 * One file of `procguard hub -c FILE…`: how often the agents are asked, and which. Agents and file_sd globs are merged across files; `hub` may be set in one file only.
 */
export interface HubFile {
  hub?: HubSettings;
  /**
   * procguard agents (run, eventlistener or memmon with --listen), each asked for /api/status.
   */
  agents?: Agent[];
  /**
   * Prometheus file_sd files (JSON or YAML lists of { targets: [HOST:PORT…], labels: {…} }), by path or glob; read again when they change.
   */
  file_sd?: string[];
}
/**
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "hub".
 */
export interface HubSettings {
  /**
   * How often each agent is asked (default 15s).
   */
  interval?: number | string;
  /**
   * How long one agent may take to answer (default 5s); no longer than the interval.
   */
  timeout?: number | string;
  /**
   * Agents asked at once (default 64).
   */
  concurrency?: number;
}
/**
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "agent".
 */
export interface Agent {
  /**
   * How the page names the host.
   */
  name: string;
  /**
   * http://host:port or https://host:port of the agent's --listen.
   */
  url: string;
  username?: string;
  /**
   * The environment variable holding the agent's PROCGUARD_LISTEN_PASSWORD.
   */
  password_env?: string;
  /**
   * For an https:// agent: the PEM file of the certificate authority its certificate is checked against (default: the system's).
   */
  ca_file?: string;
  labels?: Labels;
}
/**
 * Labels of the host, to group and filter by on the page.
 *
 * This interface was referenced by `HubFile`'s JSON-Schema
 * via the `definition` "labels".
 */
export interface Labels {
  [k: string]: string;
}
