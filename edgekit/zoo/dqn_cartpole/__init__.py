"""dqn-cartpole: a DQN controller (MLP Q-network) for gymnasium's CartPole-v1, judged in the closed loop.

``task`` is the device side (numpy + gymnasium: the closed loop and its return); ``model`` the workstation side
(the Keras Q-network and its exact deployed rewrite, calibration states, baselines).
"""
