"""What one row of each result table is: the descriptions the data page lists beside the tables.

A chapter that writes a new CSV file adds its description here; ``tests/test_data_page.py``
checks that every table a chapter writes has one and that none describes a table no chapter
writes.
"""

from __future__ import annotations

ROWS = {
    "claims.csv": "claim, model or series and reading (target set, scoring): estimate, 95 % "
                  "interval, verdict, rule",
    "claims_average.csv": "network (every training seed and dataset the claims use), target set "
                          "and scoring: average normalized accuracy with its interval, the "
                          "input of claims.csv",
    "claims_progress.csv": "network, stored epoch, target set and draw of the progress protocol: "
                           "clean and average normalized accuracy, the other input of claims.csv",
    "claims_multiverse.csv": "claim, subject and reading (grid, noise scale and kind, dataset, "
                             "target set, scoring): estimate, 95 % interval, verdict, rule",
    "claims_readings_average.csv": "network, reading (grid, noise scale and kind), target set "
                                   "and scoring: average normalized accuracy with its interval, "
                                   "the input of claims_multiverse.csv",
    "conclusions_deployment.csv": "model and target set: the BN network as trained, its best "
                                  "deployment and its twin without BN (averages with 95 % "
                                  "intervals), the twin minus the best deployment, verdict",
    "rule_ledger.csv": "rule: what it decides, the commit that fixed it and its date, the date "
                       "of the first result it judges, whether it is post hoc",
    "reproduction_training.csv": "trained model: clean accuracy, BN layers, parameters, "
                                 "training time, CPU-hours, machines, artifact",
    "length_training.csv": "network of the training-length comparison (each length it trained "
                           "for): clean accuracy, BN layers, parameters, training time, "
                           "CPU-hours, machines, artifact",
    "length_draws.csv": "network and training length, target set, noise level and draw: "
                        "accuracy under both scorings, normalized accuracy, non-finite share, "
                        "collapse",
    "length_summary.csv": "network and training length, target set, scoring and noise level: "
                          "means with 95 % intervals over the draws",
    "length_average.csv": "network and training length, target set and scoring: average "
                          "normalized accuracy with its standard error and 95 % interval",
    "length_progress.csv": "network and training length, stored epoch, target set and draw of "
                           "the progress protocol: clean and average normalized accuracy",
    "length_variances.csv": "BN network and training length, stored epoch and noise level: "
                            "exact collapse probability, share of small running variances",
    "length_pilot_history.csv": "trained run of the training-length pilot (its length) and "
                                "epoch: test accuracy, training loss",
    "reproduction_history.csv": "model and epoch: learning rate, loss, accuracy, seconds",
    "reproduction_draws.csv": "model, target set, noise level and draw: accuracy under both "
                              "scorings, normalized accuracy, non-finite share, collapse",
    "reproduction_summary.csv": "model, target set, scoring and noise level: means with 95 % "
                                "intervals over the draws",
    "reproduction_average.csv": "model, target set and scoring: average normalized accuracy, "
                                "standard error and 95 % interval (draws and test images), grid",
    "reproduction_progress.csv": "model, stored epoch, target set and draw of the lighter "
                                 "progress protocol: clean and average normalized accuracy",
    "reproduction_bias_alike.csv": "network (the readings' training seeds) and scoring: the BN "
                                   "gap with its interval and verdict with noisy and with exact "
                                   "biases, and the change with its interval",
    "reproduction_seed_spread.csv": "model and target set with replicate training seeds: "
                                    "between-seed and between-draw standard deviations, F test",
    "reproduction_collapse.csv": "BN model and noise level: exact collapse probability, sampled "
                                 "collapses, Clopper-Pearson interval",
    "collapse_adjusted.csv": "BN model and scoring: average under target all from the draws and "
                             "from the exact collapse probability",
    "protocol_fit.csv": "reading (grid family, target set, scoring): the eta_max fitted to all "
                        "published numbers, residuals",
    "bn_layers_average.csv": "network of the depth and BN-count series, target set and scoring: "
                             "average normalized accuracy with its 95 % interval",
    "bn_layers_depth.csv": "ResNet with or without BN and target set: average normalized "
                           "accuracy with its 95 % interval, against the BN layer count of the "
                           "network with BN of the same depth",
    "bn_layers_count.csv": "placement (first or last k convolutions), k and target set: average "
                           "normalized accuracy of ResNet20 with its 95 % interval",
    "mechanism_remedies.csv": "network, remedy, target set and draw: average normalized "
                              "accuracy, non-finite share",
    "mechanism_ranking.csv": "target set and remedy: average, recovery over the network as "
                             "trained and share of the gap closed, with 95 % intervals, verdict, "
                             "cost",
    "mechanism_layers.csv": "network, layer unit, target set, noise level and draw: normalized "
                            "accuracy, relative output perturbation",
    "mechanism_normalizers.csv": "normalizer, target set and scoring: clean accuracy, average "
                                 "normalized accuracy with its 95 % interval, seeds",
    "mechanism_normalizer_gaps.csv": "normalizer, target set and scoring: no normalization minus "
                                     "the normalizer (points, 95 % interval), verdict, rule",
    "mechanism_normalizers_matched.csv": "trained network of the normalizers grid and target set: "
                                         "clean and average normalized accuracy, the BN and "
                                         "no-normalization training trajectories at that "
                                         "clean accuracy",
    "mechanism_robust_bn.csv": "L1 or TopK BatchNorm, target set and scoring: the variant minus "
                               "standard BN (points, 95 % interval, what it is over)",
    "propagation_layers.csv": "network, normalizer, initialisation, seed and layer: activation "
                              "variance, cosine similarity, stable rank, gradient norm",
    "own_network_draws.csv": "version of the reader's network (with or without BN), target set, "
                             "eta and draw: accuracy, both scorings, normalized",
    "own_network_average.csv": "version of the reader's network, target set and scoring: "
                               "average normalized accuracy with its 95 % interval",
    "own_network_collapse.csv": "version of the reader's network with BN and eta: exact "
                                "collapse probability",
    "propagation_growth.csv": "network, normalizer and initialisation: growth of the activation "
                              "variance with depth against its bound",
    "group_size_layers.csv": "group size, seed and layer: the same quantities",
    "group_size_summary.csv": "group size: last-layer similarity and stable rank, with 95 % CIs",
    "group_size_training.csv": "short training run (normalizer, seed) and epoch: training loss, "
                               "largest step loss, test accuracy, dead-channel share, seconds",
    "group_size_training_summary.csv": "normalizer: seeds, diverged runs, last-epoch training "
                                       "loss and test accuracy, with 95 % CIs",
    "group_size_gradients.csv": "group size, seed and layer: gradient norms at the convolution "
                                "outputs",
    "gradient_ratio_summary.csv": "group size: first-to-last gradient-norm ratio, with 95 % CIs",
    "high_lr_training.csv": "run at the high learning rate and epoch: the same columns as the "
                            "short training runs",
    "high_lr_summary.csv": "normalizer: diverged runs, last-epoch losses and test accuracy, "
                           "with 95 % CIs",
    "singularity_training.csv": "run (normalizer, batch size, seed) and epoch: dead-channel "
                                "share, losses, test accuracy",
    "singularity_channels.csv": "run, stage (init or trained) and ReLU: dead-channel share, "
                                "active share, median standardized mean",
    "singularity_summary.csv": "normalizer and batch size: last-epoch dead-channel share, loss "
                               "and accuracy, with 95 % CIs",
    "dead_channels_by_lr.csv": "normalizer and learning rate: dead-channel share of the short "
                               "runs",
    "datasets_average.csv": "dataset, model, target set and scoring: average normalized "
                            "accuracy with its 95 % interval",
    "datasets_summary.csv": "dataset, model, target set, scoring and noise level: means with "
                            "95 % intervals over the draws",
    "datasets_collapse.csv": "dataset, BN model and noise level: exact collapse probability, "
                             "sampled collapses, Clopper-Pearson interval",
}
"""What one row of each CSV file written by a chapter is."""
