export { type ProblemResponseOptions, problemResponse } from './problem-response.js';
