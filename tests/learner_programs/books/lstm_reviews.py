# "Machine Learning with PyTorch and Scikit-Learn", sentiment of movie reviews with an LSTM (written for this
# project): reviews as random token ids of different lengths, a Dataset, a collate function that pads with
# nn.utils.rnn.pad_sequence and returns the lengths, an Embedding with padding_idx=0, pack_padded_sequence with
# the lengths as a NumPy array, the LSTM's last hidden state through two Linear layers and a sigmoid, BCELoss,
# Adam and an evaluation loop; then the book's character-level RNN step with an nn.RNN and hidden carried over.
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(4)
vocab_size = 20
texts = [rng.integers(1, vocab_size, size=rng.integers(2, 9)).tolist() for _ in range(12)]
labels = [float(sum(t) % 2) for t in texts]


class ReviewDataset(Dataset):
    def __init__(self, texts, labels):
        self.texts, self.labels = texts, labels

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, idx):
        return self.texts[idx], self.labels[idx]


def collate_batch(batch):
    label_list, text_list, lengths = [], [], []
    for _text, _label in batch:
        label_list.append(_label)
        processed_text = torch.tensor(_text, dtype=torch.int64)
        text_list.append(processed_text)
        lengths.append(processed_text.size(0))
    label_list = torch.tensor(label_list)
    lengths = torch.tensor(lengths)
    padded_text_list = nn.utils.rnn.pad_sequence(text_list, batch_first=True)
    return padded_text_list, label_list, lengths


class RNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, rnn_hidden_size, fc_hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = nn.LSTM(embed_dim, rnn_hidden_size, batch_first=True)
        self.fc1 = nn.Linear(rnn_hidden_size, fc_hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(fc_hidden_size, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, text, lengths):
        out = self.embedding(text)
        out = nn.utils.rnn.pack_padded_sequence(out, lengths.cpu().numpy(), enforce_sorted=False, batch_first=True)
        out, (hidden, cell) = self.rnn(out)
        out = hidden[-1, :, :]
        out = self.fc1(out)
        out = self.relu(out)
        out = self.fc2(out)
        out = self.sigmoid(out)
        return out


def fill(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(numbers.uniform(-0.3, 0.3, size=tuple(p.shape))))
    return model


model = fill(RNN(vocab_size, 6, 8, 5), 9)
train_dl = DataLoader(ReviewDataset(texts[:8], labels[:8]), batch_size=4, shuffle=False, collate_fn=collate_batch)
valid_dl = DataLoader(ReviewDataset(texts[8:], labels[8:]), batch_size=4, shuffle=False, collate_fn=collate_batch)
loss_fn = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)


def train(dataloader):
    model.train()
    total_acc, total_loss = 0, 0
    for text_batch, label_batch, lengths in dataloader:
        optimizer.zero_grad()
        pred = model(text_batch, lengths)[:, 0]
        loss = loss_fn(pred, label_batch)
        loss.backward()
        optimizer.step()
        total_acc += ((pred >= 0.5).float() == label_batch).float().sum().item()
        total_loss += loss.item() * label_batch.size(0)
    return total_acc / len(dataloader.dataset), total_loss / len(dataloader.dataset)


def evaluate(dataloader):
    model.eval()
    total_acc, total_loss = 0, 0
    with torch.no_grad():
        for text_batch, label_batch, lengths in dataloader:
            pred = model(text_batch, lengths)[:, 0]
            loss = loss_fn(pred, label_batch)
            total_acc += ((pred >= 0.5).float() == label_batch).float().sum().item()
            total_loss += loss.item() * label_batch.size(0)
    return total_acc / len(dataloader.dataset), total_loss / len(dataloader.dataset)


history = []
for _ in range(6):
    acc_train, loss_train = train(train_dl)
    acc_valid, loss_valid = evaluate(valid_dl)
    history.append([acc_train, loss_train, acc_valid, loss_valid])
first_batch = next(iter(train_dl))


# the character-level model: an RNN cell run one character at a time, the hidden state carried along
class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, rnn_hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn_hidden_size = rnn_hidden_size
        self.rnn = nn.LSTM(embed_dim, rnn_hidden_size, batch_first=True)
        self.fc = nn.Linear(rnn_hidden_size, vocab_size)

    def forward(self, x, hidden, cell):
        out = self.embedding(x).unsqueeze(1)
        out, (hidden, cell) = self.rnn(out, (hidden, cell))
        out = self.fc(out).reshape(out.size(0), -1)
        return out, hidden, cell

    def init_hidden(self, batch_size):
        hidden = torch.zeros(1, batch_size, self.rnn_hidden_size)
        cell = torch.zeros(1, batch_size, self.rnn_hidden_size)
        return hidden, cell


char_model = fill(CharRNN(vocab_size, 5, 7), 10)
char_optimizer = torch.optim.Adam(char_model.parameters(), lr=0.005)
seq = torch.tensor(rng.integers(0, vocab_size, size=(3, 6)))
seq_batch, target_batch = seq[:, :-1], seq[:, 1:]
char_losses = []
for _ in range(4):
    hidden, cell = char_model.init_hidden(seq.size(0))
    char_optimizer.zero_grad()
    loss = 0
    for c in range(seq_batch.shape[1]):
        pred, hidden, cell = char_model(seq_batch[:, c], hidden, cell)
        loss += nn.CrossEntropyLoss()(pred, target_batch[:, c])
    loss.backward()
    char_optimizer.step()
    char_losses.append(loss.item() / seq_batch.shape[1])
scaled_logits = torch.tensor([[1.0, 1.0, 3.0]]) * 2.0
probabilities = nn.functional.softmax(scaled_logits, dim=1)

results = {
    "history": history,
    "first_text": first_batch[0],
    "first_lengths": first_batch[2],
    "embedding_pad_row": model.embedding.weight[0].detach(),
    "lstm_weight_ih": model.rnn.weight_ih_l0.detach(),
    "char_losses": char_losses,
    "probabilities": probabilities,
}
