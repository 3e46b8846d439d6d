# "Zero to Mastery: Learn PyTorch for Deep Learning", notebook 08 (written for this project): a small Vision
# Transformer. Images cut into patches by a Conv2d with stride = kernel = patch size, flatten(2).permute(0, 2, 1)
# into a sequence, a class token nn.Parameter expanded over the batch and put first with torch.cat(dim=1), a
# learned positional embedding, nn.TransformerEncoderLayer(batch_first=True, norm_first=True, activation="gelu")
# stacked by nn.TransformerEncoder, then LayerNorm and a Linear head on the class token; a few Adam steps with
# weight_decay. Dropout is 0 so both libraries compute the same thing; weights come from NumPy by state_dict name.
import numpy as np
import torch
from torch import nn

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(8)
IMG_SIZE, PATCH_SIZE, COLOR_CHANNELS, EMBEDDING_DIM, BATCH_SIZE, NUM_CLASSES = 16, 4, 3, 12, 5, 3
number_of_patches = IMG_SIZE * IMG_SIZE // PATCH_SIZE ** 2
images = torch.from_numpy(rng.uniform(0, 1, (BATCH_SIZE, COLOR_CHANNELS, IMG_SIZE, IMG_SIZE)))
labels = torch.from_numpy(rng.integers(0, NUM_CLASSES, BATCH_SIZE))


class PatchEmbedding(nn.Module):
    def __init__(self, in_channels: int = 3, patch_size: int = 16, embedding_dim: int = 768):
        super().__init__()
        self.patch_size = patch_size
        self.patcher = nn.Conv2d(in_channels=in_channels, out_channels=embedding_dim, kernel_size=patch_size,
                                 stride=patch_size, padding=0)
        self.flatten = nn.Flatten(start_dim=2, end_dim=3)

    def forward(self, x):
        image_resolution = x.shape[-1]
        assert image_resolution % self.patch_size == 0, "Input image size must be divisible by patch size"
        return self.flatten(self.patcher(x)).permute(0, 2, 1)


class ViT(nn.Module):
    def __init__(self, img_size=224, in_channels=3, patch_size=16, num_transformer_layers=12, embedding_dim=768,
                 mlp_size=3072, num_heads=12, attn_dropout=0.0, mlp_dropout=0.0, embedding_dropout=0.0,
                 num_classes=1000):
        super().__init__()
        self.num_patches = (img_size * img_size) // patch_size ** 2
        self.class_embedding = nn.Parameter(data=torch.randn(1, 1, embedding_dim), requires_grad=True)
        self.position_embedding = nn.Parameter(data=torch.randn(1, self.num_patches + 1, embedding_dim),
                                               requires_grad=True)
        self.embedding_dropout = nn.Dropout(p=embedding_dropout)
        self.patch_embedding = PatchEmbedding(in_channels=in_channels, patch_size=patch_size,
                                              embedding_dim=embedding_dim)
        layer = nn.TransformerEncoderLayer(d_model=embedding_dim, nhead=num_heads, dim_feedforward=mlp_size,
                                           dropout=attn_dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.transformer_encoder = nn.TransformerEncoder(encoder_layer=layer, num_layers=num_transformer_layers,
                                                         enable_nested_tensor=False)
        self.classifier = nn.Sequential(nn.LayerNorm(normalized_shape=embedding_dim),
                                        nn.Linear(in_features=embedding_dim, out_features=num_classes))

    def forward(self, x):
        batch_size = x.shape[0]
        class_token = self.class_embedding.expand(batch_size, -1, -1)
        x = self.patch_embedding(x)
        x = torch.cat((class_token, x), dim=1)
        x = self.position_embedding + x
        x = self.embedding_dropout(x)
        x = self.transformer_encoder(x)
        return self.classifier(x[:, 0])


torch.manual_seed(42)
vit = ViT(img_size=IMG_SIZE, in_channels=COLOR_CHANNELS, patch_size=PATCH_SIZE, num_transformer_layers=2,
          embedding_dim=EMBEDDING_DIM, mlp_size=24, num_heads=3, num_classes=NUM_CLASSES)
state = vit.state_dict()
names = sorted(state)
weights = np.random.default_rng(9)
vit.load_state_dict({name: torch.from_numpy(weights.normal(0, 0.3, tuple(state[name].shape))) for name in names})
number_of_parameters = sum(p.numel() for p in vit.parameters() if p.requires_grad)

patch_embedding = vit.patch_embedding
patched = patch_embedding(images)
class_token = vit.class_embedding.expand(BATCH_SIZE, -1, -1)
with_class = torch.cat((class_token, patched), dim=1)
shapes = [list(patched.shape), list(class_token.shape), list(with_class.shape),
          list(vit.position_embedding.shape), number_of_patches, vit.num_patches]

vit.eval()
with torch.inference_mode():
    eval_logits = vit(images)
vit.train()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(params=vit.parameters(), lr=3e-3, betas=(0.9, 0.999), weight_decay=0.3)
losses = []
for _ in range(4):
    y_pred = vit(images)
    loss = loss_fn(y_pred, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

results = {
    "names": names, "number_of_parameters": number_of_parameters, "shapes": shapes,
    "patched": patched[0, :3].detach(), "eval_logits": eval_logits,
    "pred_probs": torch.softmax(eval_logits, dim=1), "pred_labels": eval_logits.argmax(dim=1), "losses": losses,
    "class_embedding_grad": vit.class_embedding.grad, "patcher_bias": vit.patch_embedding.patcher.bias.detach(),
    "encoder_norm1": vit.transformer_encoder.layers[0].norm1.weight.detach(),
    "first_in_proj_grad": vit.transformer_encoder.layers[0].self_attn.in_proj_weight.grad[:4],
}
