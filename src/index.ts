/**
 * rfdyn — the theory of how neurons learn localised, convolution-like receptive fields, checked
 * against simulation.
 *
 * The public surface, by layer (see docs/conventions.md):
 *
 * - **Experiments**: every model kind as one pure call, `runModel(raw, hooks)` or
 *   `<kind>Experiment.run(model, hooks)` → a Result with `status`, `message`, `summary`.
 * - **Model files**: schemas and types of every kind; reading a model file; writing a Result.
 * - **Runs**: `RunHooks`, `ProgressEvent`, `RunStatus`, `RunStore`, `UserError`.
 * - **Integration**: `OdeProblem` → `solve` / `solveAsync` → `OdeSolution`.
 * - **Theory**: IG22 single-neuron flow, Saad–Solla and mixture ODEs, Gaussian equivalence, LSG24.
 * - **CP**: symmetric CP decomposition of 4th-order cumulants and the attractors of its flow.
 * - **Simulation**: two-layer networks and SGD, teacher–student SGD, the LSG24 single ReLU.
 * - **Data**: kernels, Gaussian processes, NLGP and LSG24 fields, tasks.
 * - **Analysis** and **numerics**: IPR, receptive fields, overlaps, stability; RNG, FFT, special
 *   functions, quadrature, L-BFGS.
 *
 * @packageDocumentation
 */

// ---- Experiments ------------------------------------------------------------------------------
export { runModel, parseModel, experiment, kindOf, kinds } from "./experiments/index.js";
export type { AnyResult, Kind, ResultOf, Experiment, ExperimentHooks, ResultBase } from "./experiments/index.js";
export { simulateExperiment, runSimulate, simulationConfig, type SimulateResult } from "./experiments/simulate.js";
export { flowExperiment, runFlow, type FlowResult, type FlowRunRecord } from "./experiments/flow.js";
export { cpExperiment, runCp, type CpResult, type CpRun } from "./experiments/cp.js";
export { attractorsExperiment, runAttractorsModel, type AttractorsResult } from "./experiments/attractors.js";
export { lsgExperiment, runLsgModel, type LsgResult } from "./experiments/lsg.js";
export {
  odeExperiment, runOde, parseOdeModelOf, teacherStudentSetup, teacherStudentSgdConfig, mixtureSetup, mixtureSgdConfig, gaussianClone,
  mixtureNetwork, classSpectra, mixtureAccuracy, type TeacherStudentOdeModel, type MixtureOdeModel,
  type OdeResult, type OdeTeacherStudentResult, type OdeMixtureResult,
} from "./experiments/ode.js";
export { compareExperiment, runCompare, deviation, zSummary, type CompareResult } from "./experiments/compare.js";
export { sweepExperiment, runSweep, parseSweepModel, type SweepResult, type SweepHooks, type SweepRunModel } from "./experiments/sweep.js";
export { enumerateGrid, pointModel, runSeed, parseShard, resolveShard, shardPoints, modelHash, aggregate, type GridPoint, type RunRecord, type Shard } from "./experiments/sweep-grid.js";

// ---- Model files and results ------------------------------------------------------------------
export { simulateSchema, resolveSimulateSizes, type SimulateModel } from "./schema/simulate.js";
export { flowSchema, type FlowModel } from "./schema/flow.js";
export { cpSchema, parseCpModel, type CpModel } from "./schema/cp.js";
export { attractorsSchema, parseAttractorsModel, type AttractorsModel } from "./schema/attractors.js";
export { lsgSchema, parseLsgModel, type LsgModel } from "./schema/lsg.js";
export { odeSchema, compareSchema, parseOdeModel, parseCompareModel, type OdeModel, type CompareModel } from "./schema/ode.js";
export { sweepSchema, type SweepModel } from "./schema/sweep.js";
export { parseWith } from "./schema/common.js";
export { loadModel, readModelFile, inlineReferences } from "./io/read-model.js";
export { writeResult } from "./io/results/index.js";
export { writeSweepResult, mergeShards } from "./io/results/sweep.js";
export { directoryStore, encodeExact, decodeExact } from "./io/run-store.js";
export { readNpy, writeNpy, encodeNpy, decodeNpy } from "./io/npy.js";
export { writeCsv, toCsv } from "./io/csv.js";
export { writeFileAtomic, writeJsonAtomic } from "./io/atomic.js";
export { rfdynVersion } from "./io/version.js";

// ---- Runs -------------------------------------------------------------------------------------
export { isComplete, worseStatus, subProgress, yieldToEventLoop, type AbortLike, type ProgressEvent, type RunHooks, type RunStatus } from "./run/hooks.js";
export { memoryStore, DEFAULT_CHECKPOINT_SECONDS, type RunStore } from "./run/store.js";
export { UserError } from "./run/errors.js";
export { EtaEstimator, formatEta } from "./run/progress.js";

// ---- Integration ------------------------------------------------------------------------------
export { solve, solveAsync, SOLVE_DEFAULTS, IntegrationError, runStatusOf, successful } from "./integrate/index.js";
export type { Algorithm, Jac, Method, OdeProblem, OdeSolution, Retcode, Rhs, SolveOptions, SolveStats, SolverCarry } from "./integrate/index.js";
export { logTimes } from "./integrate/grid.js";

// ---- Theory -----------------------------------------------------------------------------------
export {
  deriveFlowCoefficients, deriveFlowCoefficientsSymbolic, closedFormCoefficients, flowPolynomial, ALPHA1_ERF, ALPHA3_ERF,
  type FlowCoefficients, type CubicActivation,
} from "./theory/coefficients.js";
export {
  makeSingleNeuronFlow, buildSingleNeuronFlow, translationInvariantCovariance, sampleCovariance, denseCovariance, diagonalCumulantFactors,
  FLOW_VARIANTS, type FlowVariant, type FlowClass, type SingleNeuronFlow, type SingleNeuronFlowOptions,
} from "./theory/single-neuron.js";
export { integrateFlow, classDatasets, classesWithGain, type FlowTrajectory, type IntegrateFlowOptions } from "./theory/flow-trajectory.js";
export {
  SaadSollaOde, teacherStudentProblem, integrateTeacherStudent,
  type TeacherStudentParams, type TeacherStudentRun, type TeacherStudentRunOptions,
} from "./theory/saad-solla.js";
export { MixtureOde, mixtureProblem, integrateMixture, type MixtureOdeParams, type MixtureRun, type MixtureRunOptions, type MixtureState, type MixtureInit } from "./theory/mixture-ode.js";
export { getTestError, gaussianClassPmse, getPmseFromOmegas, getAccuracyMc, preactivationCovariance, type GetPrediction } from "./theory/get.js";
export { makePhi, phiDirect, phiCubic, phiSign, lsgRhs, runLsg, initWeights, denseCirculant, type PhiTable, type LsgSystem, type LsgRunOptions, type LsgRunResult } from "./theory/lsg24.js";

// ---- CP decomposition -------------------------------------------------------------------------
export { makeCPTensor, cpFactor, type CPTensor } from "./stats/cp-tensor.js";
export { decompose, decomposeAsync, matchFactors, normaliseFactors, optimalWeights, type DecomposeOptions, type CpDecomposition, type CpMethod } from "./cp/decompose.js";
export { ImplicitCumulantLoss, ExplicitCumulantLoss, sampleCumulantTensor, sampleCumulantNormSq, cpToTensor, type CpObjective } from "./cp/loss.js";
export { analyseCumulant, factorIprs, relativeReconstructionError, type CpAnalysis, type CpAnalysisSpec } from "./cp/analyse.js";
export { runAttractors, factorOverlaps, factorFixedPoints, refineFixedPoint, type AttractorOptions, type AttractorResult } from "./cp/attractors.js";

// ---- Simulation -------------------------------------------------------------------------------
export { initNetwork, forward, evaluate, lossAndGradient, sigma, sigmaPrime, ACTIVATIONS, type Network, type NetworkConfig, type Activation } from "./sim/network.js";
export { SgdStepper, EpochBatcher, type SgdConfig } from "./sim/sgd.js";
export { simulate, logSchedule, type SimulationConfig, type SimulationResult, type LogRow } from "./sim/simulate.js";
export { simulateTeacherStudent, teacherStudentInit, overlaps, type TeacherStudentSimConfig, type TeacherStudentSimResult } from "./sim/teacher-student.js";
export { trainSingleRelu, type SingleReluOptions, type SingleReluResult } from "./sim/single-relu.js";

// ---- Data -------------------------------------------------------------------------------------
export { kernelRow, seKernelRow, ringDistance, spectrumOfRow, clipSpectrum, kronSpectrum, circulantApply, denseFromRow, geometrySize, type Geometry } from "./data/kernels.js";
export { CirculantGaussian } from "./data/gp.js";
export { nlgpGamma, nlgpCovariance, nlgpTransform, nlgpKurtosis, toIg22Gain, type GainConvention } from "./data/nlgp.js";
export { Task, twoClassTask, makeClassSampler, labelValues, GpClass, NlgpClass, type ClassSpec } from "./data/task.js";
export type { ClassSampler } from "./data/sampler.js";
export { makeField, makeMarginal, kurKurtosis, kurVariance, kurForKurtosis, marginalCovariance, type MarginalSpec, type FieldSpec } from "./data/marginals.js";
export { IsingChainClass, isingCorrelationRow } from "./data/ising.js";
export { EllipticalClass, ellipticalKurtosis, type RadiusSpec } from "./data/elliptical.js";

// ---- Analysis ---------------------------------------------------------------------------------
export { ipr, participationRatio, iprRows, participationRatioRows } from "./analysis/ipr.js";
export { receptiveFields, receptiveField1D, receptiveField2D } from "./analysis/receptive.js";
export { invariantOverlaps, invariantDistances, averageLinkage, clusterReceptiveFields, fourierMagnitudes, type Dendrogram } from "./analysis/overlaps.js";
export { classifyJacobian, newtonFixedPoint, numericalJacobian, type StabilityReport } from "./analysis/stability.js";
export { cpFlowVector, cpFlowJacobian, type CpFlowSystem, type CpFactors } from "./analysis/cp-flow.js";
export type { TeacherStudentState } from "./analysis/order-parameters.js";

// ---- Numerics ---------------------------------------------------------------------------------
export { Rng } from "./stats/rng.js";
export { fftPlan, fft2, rfft, type FftPlan } from "./stats/fft.js";
export { erf, erfc, erfcx, normPdf, normCdf, normPpf } from "./stats/special.js";
export { gaussLegendre, gaussHermiteProb, integrateAdaptive, gaussianExpectation } from "./stats/quadrature.js";
export { I2, J2, I3, I4, erfGeneralisationError, bvnCdf } from "./stats/gaussian-integrals.js";
export { choleskyFactor, choleskySolve, choleskySemidefinite } from "./stats/linalg.js";
export { quartiles, summarise, meanSe } from "./stats/summary.js";
export { lgamma, lbeta } from "./stats/gamma.js";
export { lbfgs, lbfgsAsync, lineSearchStrongWolfe, type LbfgsOptions, type LbfgsResult } from "./optim/lbfgs.js";
export { checkGradient, numericalGradient } from "./optim/gradcheck.js";
export { gemm, gemv, syrkWeighted, kernelBackend, setKernelBackend, simdAvailable, pin, unpin, type KernelBackend } from "./kernels/index.js";

// ---- Plots ------------------------------------------------------------------------------------
export { lineChart, heatmap, hconcat, vconcat, renderSvg, type VlSpec, type LineSeries } from "./plot/render.js";
export { writePlot } from "./io/plots.js";
