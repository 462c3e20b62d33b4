// How a verb ends with a message and an exit code. A module of its own, so the command line
// (program.ts) can name it without loading the policy loader behind the verbs.

/** Raised to end a verb with a message on stderr and an exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
