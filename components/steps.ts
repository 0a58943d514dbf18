// A host-side step as shell command lines for @pulumi/command: computed by the model, run by Pulumi.
export interface ShellStep {
  /** Stable id, used in resource names. */
  id: string;
  create: string;
  delete: string;
}
