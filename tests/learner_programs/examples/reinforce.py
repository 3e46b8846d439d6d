# pytorch/examples "reinforcement_learning" style (written for this project): REINFORCE and actor-critic on a
# hand-written corridor (walk left or right, reward at the right end). The Policy keeps saved_log_probs and
# rewards lists; select_action samples a Categorical and saves m.log_prob(action); finish_episode discounts the
# returns, normalises them with (r - r.mean()) / (r.std() + eps), sums torch.cat(policy_loss) and clears the
# lists with del policy.rewards[:]. Sampling uses each library's own generator, so the actions are drawn with
# NumPy from m.probs (the same in both) and the library's m.sample() is checked by its shape and range.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

rng = np.random.default_rng(5)
gamma, eps = 0.9, np.finfo(np.float32).eps.item()


def corridor_step(position, action):
    position = max(0, min(4, position + (1 if action == 1 else -1)))
    return position, (1.0 if position == 4 else -0.1), position == 4


def one_hot(position):
    return torch.eye(5)[position].unsqueeze(0)


class Policy(nn.Module):
    def __init__(self, critic=False):
        super().__init__()
        self.affine1 = nn.Linear(5, 16)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1) if critic else None
        self.saved_log_probs, self.saved_values, self.rewards = [], [], []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        probs = F.softmax(self.action_head(x), dim=-1)
        return probs if self.value_head is None else (probs, self.value_head(x))


def run_episodes(policy, optimizer, episodes=6):
    lengths, losses = [], []
    for _i_episode in range(episodes):
        state = 0
        for t in range(1, 12):  # noqa: B007 (t, the length, is read after it)
            out = policy(one_hot(state))
            probs = out if policy.value_head is None else out[0]
            m = Categorical(probs)
            action = torch.tensor([int(rng.random() > probs[0, 0].item())])
            policy.saved_log_probs.append(m.log_prob(action))
            if policy.value_head is not None:
                policy.saved_values.append(out[1])
            state, reward, done = corridor_step(state, action.item())
            policy.rewards.append(reward)
            if done:
                break
        R, returns = 0, []
        for r in policy.rewards[::-1]:
            R = r + gamma * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        policy_loss, value_losses = [], []
        for k, (log_prob, R) in enumerate(zip(policy.saved_log_probs, returns)):
            if policy.value_head is None:
                policy_loss.append(-log_prob * R)
            else:
                value = policy.saved_values[k]
                policy_loss.append(-log_prob * (R - value.item()))
                value_losses.append(F.smooth_l1_loss(value.squeeze(), R))
        optimizer.zero_grad()
        loss = torch.cat(policy_loss).sum()
        if value_losses:
            loss = loss + torch.stack(value_losses).sum()
        loss.backward()
        optimizer.step()
        del policy.rewards[:]
        del policy.saved_log_probs[:]
        del policy.saved_values[:]
        lengths.append(t)
        losses.append(loss.item())
    return lengths, losses


results = {}
for name, critic in (("reinforce", False), ("actor_critic", True)):
    policy = Policy(critic)
    with torch.no_grad():
        for p in policy.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    optimizer = optim.Adam(policy.parameters(), lr=3e-2)
    lengths, losses = run_episodes(policy, optimizer)
    # the normalised returns sum to zero, so REINFORCE's loss is a difference of near-equal float32 terms:
    # the trained weights are compared instead
    results[name] = {"lengths": lengths, "losses": losses if critic else losses[:1], "left": len(policy.rewards),
                     "action_head": policy.action_head.weight}
m = Categorical(torch.tensor([[0.2, 0.8], [0.5, 0.5]]))
drawn = m.sample()
results["sample"] = [list(drawn.shape), str(drawn.dtype == torch.int64), str(bool(((drawn >= 0) & (drawn < 2)).all())),
                     m.entropy(), m.log_prob(torch.tensor([1, 0]))]
