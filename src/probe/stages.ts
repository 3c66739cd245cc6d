/** The stages of one probe, in the order they run (CONTRACT §1). */
export const STAGES = [
  'resolve',
  'connect',
  'tls',
  'greeting',
  'starttls',
  'login',
  'select',
  'list',
  'logout',
] as const;

export type Stage = (typeof STAGES)[number];
