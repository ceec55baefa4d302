// The test backend lives in testkit/ (the bench uses it too).
export * from '../../testkit/prebuilt-backend.js';
