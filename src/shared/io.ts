// Where the CLI writes: injected so scenario tests can run a verb in-process.

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Colour only on a terminal, and never with NO_COLOR. */
  color?: boolean;
  /** Standard input, for `-c -`; a verb run without it cannot read policies from it. */
  stdin?: () => AsyncIterable<Buffer | string>;
  /** The long-running modes log readable lines on a terminal, JSON lines elsewhere. */
  stderrIsTTY?: boolean;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: () => process.stdin,
  env: process.env,
  cwd: process.cwd(),
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  stderrIsTTY: process.stderr.isTTY === true,
};
