/**
 * Order parameters of a soft-committee teacher–student pair (Saad & Solla 1995), shared by the
 * online-SGD simulator (src/sim/teacher-student.ts) and the ODEs (src/theory/saad-solla.ts), so both
 * report their trajectories as `states[j]`.
 */

/** Q = WWᵀ/N, R = WBᵀ/N and the student's second layer v at one time. */
export interface TeacherStudentState {
  /** K×K */
  Q: Float64Array;
  /** K×M */
  R: Float64Array;
  /** K (second-layer weights; constant unless trained) */
  v: Float64Array;
}
