// Test harness (fefet_spice's own code) for the MLP+NeuroSim V3.0 RealDevice constructor we export.
//
// It declares the fields the V3.0 constructor assigns (Cell.h: Cell, eNVM, AnalogNVM, RealDevice; checked
// at neurosim/MLP_NeuroSim_V3.0 commit cc13863) with sentinel values, #includes the generated constructor
// verbatim, and implements the documented V3.0 model around it: getParamA (label -> A/P_max, index
// truncated to 0.01 bins; the table is recomputed from its definition, not copied), the nonlinear
// Write() of one call (truncate to levels, numPulse as int, curve inversion, absolute cycle-to-cycle
// noise * sqrt(|numPulse|), clipping) and Read() (I = V G (1 + N(0, sigmaReadNoise))).
// Output: "F name value" for every field, "T pulse mean_G" for the trajectory (LTP then LTD),
// "R mean std" of the relative read noise.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

std::mt19937 gen;

static const double UNSET = -1.2345e300;
static const int IUNSET = -123456789;

struct Flag {  // a bool that remembers whether it was ever assigned
  int v = -1;
  Flag &operator=(bool b) { v = b ? 1 : 0; return *this; }
  operator bool() const { return v == 1; }
};

static double nlLabelOf(double r) {  // max_x[G(x) - x] / 0.0989949 of the normalized curve, A/P_max = r
  double x = -r * std::log(r * (1 - std::exp(-1 / r)));
  if (x < 0) x = 0;
  if (x > 1) x = 1;
  double g = (1 - std::exp(-x / r)) / (1 - std::exp(-1 / r));
  return (g - x) / 0.0989949;
}

double getParamA(double NL) {
  int index = (int)(std::fabs(NL) * 100) - 1;
  if (index < 0) index = 0;
  if (index > 899) index = 899;
  double target = (index + 1) / 100.0, lo = 1e-3, hi = 1e4;  // label falls as r grows
  for (int i = 0; i < 200; i++) {
    double mid = std::sqrt(lo * hi);
    if (nlLabelOf(mid) > target) lo = mid; else hi = mid;
  }
  return (NL > 0 ? 1 : -1) * std::sqrt(lo * hi);
}

static double truncateLevels(double x, int numLevel) {  // round to the nearest level, toward the sign
  int sign = x < 0 ? -1 : 1;
  double val = x * numLevel * sign;
  int r = (int)val;
  val = (val - r >= 0.5) ? r + 1 : r;
  return val * sign / numLevel;
}

class RealDevice {
 public:
  // Cell
  int x = IUNSET, y = IUNSET;
  double heightInFeatureSize = UNSET, widthInFeatureSize = UNSET;
  // eNVM
  double readVoltage = UNSET, readPulseWidth = UNSET;
  double writeVoltageLTP = UNSET, writeVoltageLTD = UNSET, writePulseWidthLTP = UNSET, writePulseWidthLTD = UNSET;
  double writeEnergy = UNSET, conductance = UNSET, conductancePrev = UNSET;
  double maxConductance = UNSET, minConductance = UNSET, avgMaxConductance = UNSET, avgMinConductance = UNSET;
  Flag cmosAccess, nonlinearIV, readNoise, conductanceRangeVar;
  double resistanceAccess = UNSET, sigmaReadNoise = UNSET, NL = UNSET;
  double maxConductanceVar = UNSET, minConductanceVar = UNSET;
  std::normal_distribution<double> *gaussian_dist = nullptr, *gaussian_dist2 = nullptr, *gaussian_dist3 = nullptr;
  std::normal_distribution<double> *gaussian_dist_maxConductance = nullptr, *gaussian_dist_minConductance = nullptr;
  // AnalogNVM
  int maxNumLevelLTP = IUNSET, maxNumLevelLTD = IUNSET, numPulse = IUNSET;
  Flag FeFET, nonIdenticalPulse;
  double gateCapFeFET = UNSET, writeLatencyLTP = 0, writeLatencyLTD = 0;
  double VinitLTP = UNSET, VstepLTP = UNSET, VinitLTD = UNSET, VstepLTD = UNSET;
  double PWinitLTP = UNSET, PWstepLTP = UNSET, PWinitLTD = UNSET, PWstepLTD = UNSET, writeVoltageSquareSum = UNSET;
  // RealDevice
  Flag nonlinearWrite;
  double xPulse = 0, NL_LTP = UNSET, NL_LTD = UNSET, paramALTP = UNSET, paramBLTP = 0, paramALTD = UNSET;
  double paramBLTD = 0, sigmaDtoD = UNSET, sigmaCtoC = UNSET;

  RealDevice(int x, int y);

  double Read(double voltage) {
    return readNoise ? voltage * conductance * (1 + (*gaussian_dist)(gen)) : voltage * conductance;
  }

  void Write(double deltaWeightNormalized, double minWeight, double maxWeight) {
    double conductanceNew = conductance;
    bool ltp = deltaWeightNormalized > 0;
    int levels = ltp ? maxNumLevelLTP : maxNumLevelLTD;
    double A = ltp ? paramALTP : paramALTD;
    double dw = truncateLevels(deltaWeightNormalized / (maxWeight - minWeight), levels);
    numPulse = dw * levels;
    double span = maxConductance - minConductance;
    if (nonlinearWrite) {
      double B = span / (1 - std::exp(-levels / A));
      (ltp ? paramBLTP : paramBLTD) = B;
      xPulse = -A * std::log(1 - (conductance - minConductance) / B);
      conductanceNew = B * (1 - std::exp(-(xPulse + numPulse) / A)) + minConductance;
    } else {
      xPulse = (conductance - minConductance) / span * levels;
      conductanceNew = (xPulse + numPulse) / levels * span + minConductance;
    }
    if (sigmaCtoC && numPulse != 0) conductanceNew += (*gaussian_dist3)(gen) * std::sqrt(std::abs(numPulse));
    if (conductanceNew > maxConductance) conductanceNew = maxConductance;
    else if (conductanceNew < minConductance) conductanceNew = minConductance;
    conductancePrev = conductance;
    conductance = conductanceNew;
  }
};

#include CONSTRUCTOR

#define F(name) std::printf("F %s %.17g\n", #name, (double)d0.name)
#define B(name) std::printf("F %s %d\n", #name, d0.name.v)
#define P(name) std::printf("F %s %d\n", #name, d0.name != nullptr ? 1 : -1)

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  gen.seed(argc > 2 ? std::atoi(argv[2]) : 0);
  std::vector<RealDevice *> cells;
  for (int i = 0; i < n; i++) cells.push_back(new RealDevice(i, 0));
  const RealDevice &d0 = *cells[0];
  F(x); F(y); F(heightInFeatureSize); F(widthInFeatureSize); F(readVoltage); F(readPulseWidth);
  F(writeVoltageLTP); F(writeVoltageLTD); F(writePulseWidthLTP); F(writePulseWidthLTD); F(writeEnergy);
  F(conductance); F(conductancePrev); F(maxConductance); F(minConductance); F(avgMaxConductance);
  F(avgMinConductance); F(resistanceAccess); F(sigmaReadNoise); F(NL); F(maxConductanceVar); F(minConductanceVar);
  F(maxNumLevelLTP); F(maxNumLevelLTD); F(numPulse); F(gateCapFeFET); F(VinitLTP); F(VstepLTP); F(VinitLTD);
  F(VstepLTD); F(PWinitLTP); F(PWstepLTP); F(PWinitLTD); F(PWstepLTD); F(writeVoltageSquareSum);
  F(NL_LTP); F(NL_LTD); F(paramALTP); F(paramALTD); F(sigmaDtoD); F(sigmaCtoC);
  B(cmosAccess); B(nonlinearIV); B(readNoise); B(conductanceRangeVar); B(FeFET); B(nonIdenticalPulse);
  B(nonlinearWrite);
  P(gaussian_dist); P(gaussian_dist2); P(gaussian_dist3); P(gaussian_dist_maxConductance);
  P(gaussian_dist_minConductance);
  int up = d0.maxNumLevelLTP, down = d0.maxNumLevelLTD;
  for (int p = 0; p <= up + down; p++) {
    double s = 0;
    for (auto c : cells) s += c->conductance;
    std::printf("T %d %.17g\n", p, s / n);
    for (auto c : cells) {  // one pulse per call: deltaWeight = one level of the weight range [-1, 1]
      if (p < up) c->Write(2.0 / up, -1, 1);
      else if (p < up + down) c->Write(-2.0 / down, -1, 1);
    }
  }
  double s = 0, s2 = 0;
  for (auto c : cells) {
    double r = c->Read(d0.readVoltage) / (d0.readVoltage * c->conductance) - 1;
    s += r; s2 += r * r;
  }
  std::printf("R %.17g %.17g\n", s / n, std::sqrt(s2 / n - (s / n) * (s / n)));
  return 0;
}
