export { RunMetadata, RunMetadataSchema, type RunMetadataInit, type RunMetadataData } from './run-metadata.js';
export { Recording, RECORDING_FORMAT, RECORDING_FORMAT_VERSION, type RecordingData, type RecordedJob } from './recording.js';
export { ReplayRecorder, type ReplayRecorderOptions } from './replay-recorder.js';
export { ReplayPlayer, ReplayMode, type ReplayPlaybackOptions, type ReplayStats, type ReplayPlayerOptions } from './replay-player.js';
export { ReplayProvider, type ReplayProviderOptions } from './replay-provider.js';
export { JobReplayer, replayJob, type ReplayJobOptions, type ReplayOutcome } from './job-replayer.js';
export { forkJob, type ForkJobOptions, type ForkState, type ForkStep } from './fork-job.js';
export { copyJournalEntries } from './copy-journal.js';
