/** Figure 5 (reconcile of 10 000 PPPoE customers): filled in once the reconcile engine is benchmarked. */
export async function benchReconcile(_log: (m: string) => void): Promise<{ figure: string; value: string; target: string; pass: boolean | null }[]> {
  return [];
}
